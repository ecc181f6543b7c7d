import Autodiff
import Foundation
import TestSupport
import Testing

// Functions whose value, gradient and Hessian are known in closed form. The
// analytic references are computed in plain Swift on Doubles (no tensor ops).
// AD results must match them to near machine precision.

/// AD against an exact closed form.
private let exactTolerance = 1e-10

/// A scalar function with analytic value, gradient and Hessian.
struct ClosedFormCase: Sendable, CustomTestStringConvertible {
  let name: String
  let point: @Sendable () -> Tensor
  let f: @Sendable (Tensor) -> Tensor
  let value: @Sendable (Tensor) -> Double
  /// Analytic gradient, in the shape of x.
  let gradient: @Sendable (Tensor) -> Tensor
  /// Analytic Hessian, in the shape x.shape + x.shape.
  let hessian: @Sendable (Tensor) -> Tensor

  var testDescription: String { name }
}

/// Hessian-shaped tensor (x.shape + x.shape) with entries `entry(i, j)` over
/// flat indices of x.
private func hessianTensor(like x: Tensor, _ entry: (Int, Int) -> Double) -> Tensor {
  let n = x.scalarCount
  var scalars: [Double] = []
  scalars.reserveCapacity(n * n)
  for i in 0..<n {
    for j in 0..<n {
      scalars.append(entry(i, j))
    }
  }
  return Tensor(shape: x.shape + x.shape, scalars: scalars)
}

/// Hessian-shaped diagonal tensor with `diagonal(x_i)` on the diagonal.
private func diagonalHessian(_ x: Tensor, _ diagonal: (Double) -> Double) -> Tensor {
  let d = x.scalars.map(diagonal)
  return hessianTensor(like: x) { i, j in i == j ? d[i] : 0 }
}

private func plainSum(_ x: Tensor, _ term: (Double) -> Double) -> Double {
  var total = 0.0
  for s in x.scalars { total += term(s) }
  return total
}

/// A fixed non-symmetric 4 x 4 matrix.
private func nonSymmetricA() -> Tensor {
  randomTensor([4, 4], seed: 801)
}

enum ClosedFormCases {
  static let all: [ClosedFormCase] = [
    ClosedFormCase(
      name: "sum(x^2) -> 2x, 2I",
      point: { randomTensor([5], seed: 811) },
      f: { $0.squared().sum() },
      value: { plainSum($0) { $0 * $0 } },
      gradient: { mapScalars($0) { 2 * $0 } },
      hessian: { diagonalHessian($0) { _ in 2 } }),
    ClosedFormCase(
      name: "sum(x * x) on a 2x3 matrix (Hessian shape [2,3,2,3])",
      point: { randomTensor([2, 3], seed: 812) },
      f: { ($0 * $0).sum() },
      value: { plainSum($0) { $0 * $0 } },
      gradient: { mapScalars($0) { 2 * $0 } },
      hessian: { diagonalHessian($0) { _ in 2 } }),
    ClosedFormCase(
      name: "sum(exp(x)) -> exp(x), diag(exp(x))",
      point: { randomTensor([5], seed: 813) },
      f: { exp($0).sum() },
      value: { plainSum($0) { Foundation.exp($0) } },
      gradient: { mapScalars($0) { Foundation.exp($0) } },
      hessian: { diagonalHessian($0) { Foundation.exp($0) } }),
    ClosedFormCase(
      name: "sum(log(x)) -> 1/x, -diag(1/x^2)",
      point: { positiveTensor([5], seed: 814) },
      f: { log($0).sum() },
      value: { plainSum($0) { Foundation.log($0) } },
      gradient: { mapScalars($0) { 1 / $0 } },
      hessian: { diagonalHessian($0) { -1 / ($0 * $0) } }),
    ClosedFormCase(
      name: "sum(sqrt(x)) -> 1/(2 sqrt x), -diag(x^-1.5 / 4)",
      point: { positiveTensor([4], seed: 815) },
      f: { sqrt($0).sum() },
      value: { plainSum($0) { $0.squareRoot() } },
      gradient: { mapScalars($0) { 0.5 / $0.squareRoot() } },
      hessian: { diagonalHessian($0) { -0.25 / ($0 * $0.squareRoot()) } }),
    ClosedFormCase(
      name: "sum(tanh(x)) -> 1 - t^2, diag(-2 t (1 - t^2))",
      point: { randomTensor([5], seed: 816) },
      f: { tanh($0).sum() },
      value: { plainSum($0) { Foundation.tanh($0) } },
      gradient: { mapScalars($0) { 1 - Foundation.tanh($0) * Foundation.tanh($0) } },
      hessian: {
        diagonalHessian($0) { x in
          let t = Foundation.tanh(x)
          return -2 * t * (1 - t * t)
        }
      }),
    ClosedFormCase(
      name: "sum(softplus(x)) -> sigmoid, diag(s (1 - s))",
      point: { randomTensor([5], seed: 817, scale: 2) },
      f: { softplus($0).sum() },
      value: { plainSum($0) { Foundation.log1p(Foundation.exp($0)) } },
      gradient: { mapScalars($0, referenceSigmoid) },
      hessian: {
        diagonalHessian($0) { x in
          let s = referenceSigmoid(x)
          return s * (1 - s)
        }
      }),
    ClosedFormCase(
      name: "x^T A x, A non-symmetric -> (A + A^T) x, A + A^T",
      point: { randomTensor([4], seed: 818) },
      f: { x in dot(x, matmul(nonSymmetricA(), x)) },
      value: { x in referenceDot(x, referenceMatVec(nonSymmetricA(), x)) },
      gradient: { x in
        let a = nonSymmetricA()
        return zipScalars(referenceMatVec(a, x), referenceMatVec(referenceTranspose(a), x), +)
      },
      hessian: { _ in
        let a = nonSymmetricA()
        return zipScalars(a, referenceTranspose(a), +)
      }),
    ClosedFormCase(
      name: "0.5 x^T A x + b^T x -> A x + b, A",
      point: { Quadratic.objective.point() },
      f: { Quadratic.value($0) },
      value: { x in
        0.5 * referenceDot(x, referenceMatVec(Quadratic.matrixA(), x)) + referenceDot(Quadratic.vectorB(), x)
      },
      gradient: { Quadratic.analyticGradient($0) },
      hessian: { _ in Quadratic.matrixA() }),
    ClosedFormCase(
      name: "log-sum-exp -> softmax p, diag(p) - p p^T",
      point: { randomTensor([5], seed: 819, scale: 2) },
      f: { $0.logSumExp(squeezingAxes: 0) },
      value: { referenceLogSumExp($0.scalars) },
      gradient: { x in Tensor(shape: x.shape, scalars: referenceSoftmax(x.scalars)) },
      hessian: { x in
        let p = referenceSoftmax(x.scalars)
        return hessianTensor(like: x) { i, j in (i == j ? p[i] : 0) - p[i] * p[j] }
      }),
    ClosedFormCase(
      name: "Euclidean norm -> x / r, (I - x x^T / r^2) / r",
      point: { randomTensor([4], seed: 820) },
      f: { $0.norm() },
      value: { x in referenceDot(x, x).squareRoot() },
      gradient: { x in
        let r = referenceDot(x, x).squareRoot()
        return mapScalars(x) { $0 / r }
      },
      hessian: { x in
        let s = x.scalars
        let r2 = referenceDot(x, x)
        let r = r2.squareRoot()
        return hessianTensor(like: x) { i, j in ((i == j ? 1 : 0) - s[i] * s[j] / r2) / r }
      }),
    ClosedFormCase(
      name: "pow(sum(x), 3) -> 3 s^2, 6 s 1 1^T",
      point: { positiveTensor([4], seed: 821, minimum: 0.1) },
      f: { pow($0.sum(), 3) },
      value: { x in
        let s = referenceSum(x)
        return s * s * s
      },
      gradient: { x in
        let s = referenceSum(x)
        return mapScalars(x) { _ in 3 * s * s }
      },
      hessian: { x in
        let s = referenceSum(x)
        return hessianTensor(like: x) { _, _ in 6 * s }
      }),
    ClosedFormCase(
      name: "mean(x) * sum(x) -> 2 s / n, (2 / n) 1 1^T",
      point: { randomTensor([2, 3], seed: 822) },
      f: { $0.mean() * $0.sum() },
      value: { x in referenceSum(x) * referenceSum(x) / Double(x.scalarCount) },
      gradient: { x in
        let s = referenceSum(x)
        let n = Double(x.scalarCount)
        return mapScalars(x) { _ in 2 * s / n }
      },
      hessian: { x in
        let n = Double(x.scalarCount)
        return hessianTensor(like: x) { _, _ in 2 / n }
      }),
    ClosedFormCase(
      name: "Rosenbrock (4-D)",
      point: { Rosenbrock.objective.point() },
      f: { Rosenbrock.value($0) },
      value: { t in
        let x = t.scalars
        var total = 0.0
        for i in 0..<(x.count - 1) {
          let a = x[i + 1] - x[i] * x[i]
          let b = 1 - x[i]
          total += 100 * a * a + b * b
        }
        return total
      },
      gradient: { Rosenbrock.analyticGradient($0) },
      hessian: { Rosenbrock.analyticHessian($0) }),
    ClosedFormCase(
      name: "logistic regression with L2",
      point: { LogisticRegression.objective.point() },
      f: { LogisticRegression.loss($0) },
      value: { w in
        let z = referenceMatVec(LogisticRegression.inputs(), w).scalars
        let y = LogisticRegression.labels().scalars
        var total = 0.0
        for i in z.indices {
          total += Foundation.log1p(Foundation.exp(z[i])) - y[i] * z[i]
        }
        return total / Double(z.count) + LogisticRegression.l2 * referenceDot(w, w)
      },
      gradient: { LogisticRegression.analyticGradient($0) },
      hessian: { LogisticRegression.analyticHessian($0) }),
    ClosedFormCase(
      name: "softmax cross-entropy",
      point: { SoftmaxRegression.objective.point() },
      f: { SoftmaxRegression.loss($0) },
      value: { theta in
        let p = SoftmaxRegression.probabilities(theta)
        var total = 0.0
        for (i, label) in SoftmaxRegression.labelIndices.enumerated() {
          total -= Foundation.log(p[i][label])
        }
        return total / Double(SoftmaxRegression.examples)
      },
      gradient: { SoftmaxRegression.analyticGradient($0) },
      hessian: { SoftmaxRegression.analyticHessian($0) }),
  ]
}

@Suite("Closed-form gradients and Hessians")
struct ClosedFormTests {
  @Test("Value and gradient match the closed form", arguments: ClosedFormCases.all)
  func valueAndGradient(_ c: ClosedFormCase) {
    let x = c.point()
    let expected = c.gradient(x)
    let (value, g) = valueWithGradient(at: x, of: c.f)
    #expect(value.scalarCount == 1)
    expectClose(value.scalars[0], c.value(x), tolerance: exactTolerance, "value")
    expectClose(g, expected, tolerance: exactTolerance, "valueWithGradient")
    expectClose(gradient(at: x, of: c.f), expected, tolerance: exactTolerance, "gradient")
  }

  @Test("Hessian matches the closed form", arguments: ClosedFormCases.all)
  func hessianMatches(_ c: ClosedFormCase) {
    let x = c.point()
    expectClose(hessian(at: x, of: c.f), c.hessian(x), tolerance: exactTolerance)
  }

  @Test("hvp in every mode matches the closed-form Hessian times v", arguments: ClosedFormCases.all)
  func hvpMatches(_ c: ClosedFormCase) {
    let x = c.point()
    let v = randomTensor(x.shape, seed: 831)
    let n = x.scalarCount
    let h = c.hessian(x).reshaped(to: [n, n])
    let expected = referenceMatVec(h, v.reshaped(to: [n])).reshaped(to: x.shape)
    for mode in HVPMode.allCases {
      expectClose(hvp(at: x, direction: v, mode: mode, of: c.f), expected, tolerance: exactTolerance, "\(mode)")
    }
    // Forward-over-reverse written by hand with the public operators.
    let (_, manual) = jvp(at: x, direction: v) { gradient(at: $0, of: c.f) }
    expectClose(manual, expected, tolerance: exactTolerance, "jvp of gradient")
  }

  @Test("Rosenbrock at its minimum: zero gradient, known Hessian")
  func rosenbrockMinimum() {
    let x = Tensor.ones([4])
    let (value, g) = valueWithGradient(at: x) { Rosenbrock.value($0) }
    #expect(value.scalars == [0])
    expectClose(g, Tensor.zeros([4]), tolerance: 0)
    let expected: Tensor = [
      [802, -400, 0, 0],
      [-400, 1002, -400, 0],
      [0, -400, 1002, -400],
      [0, 0, -400, 200],
    ]
    expectClose(hessian(at: x) { Rosenbrock.value($0) }, expected, tolerance: 1e-12)
  }

  @Test("Simple scalar derivatives: d/dx x^3 at 2 is 12, d2 is 12")
  func scalarCube() {
    let x = Tensor(2.0)
    let g = gradient(at: x) { $0 * $0 * $0 }
    #expect(g.shape == [])
    expectClose(g.scalar, 12, tolerance: 1e-14)
    let h = hessian(at: x) { $0 * $0 * $0 }
    #expect(h.shape == [])
    expectClose(h.scalar, 12, tolerance: 1e-14)
  }

  @Test("a tensor's gradient equals the structure path's: a constant function, a value of shape [1], a nested gradient")
  func tensorGradientMatchesStructures() {
    let x = Tensor(shape: [2, 3], scalars: [1, -2, 3, 0.5, 4, -1])
    let constant = valueWithGradient(at: x) { _ in Tensor(7.0) }
    #expect(
      constant.value.scalar == 7 && constant.gradient.shape == [2, 3]
        && constant.gradient.scalars.allSatisfy { $0 == 0 })
    let shaped = valueWithGradient(at: x) { ($0 * $0).sum().reshaped(to: [1]) }
    #expect(shaped.value.shape == [1] && shaped.gradient.scalars == x.scalars.map { 2 * $0 })
    let viaStructure = valueWithGradient(at: [x]) { ($0[0] * $0[0]).sum().reshaped(to: [1]) }
    #expect(viaStructure.gradient[0].scalars == shaped.gradient.scalars && viaStructure.value.shape == [1])
    // d/dx of ⟨∇(Σ x³), 1⟩ = 6 x, with the inner gradient on the one-tensor path.
    let nested = gradient(at: x) { y in gradient(at: y) { ($0 * $0 * $0).sum() }.sum() }
    expectClose(nested, x * 6, tolerance: 1e-13)
  }

  @Test("a tensor's jvp equals the structure path's: a constant function, an output of another shape, nesting")
  func tensorJVPMatchesStructures() {
    let x = Tensor(shape: [2, 3], scalars: [1, -2, 3, 0.5, 4, -1])
    let v = Tensor(shape: [2, 3], scalars: [0.5, 1, -1, 2, 0, 3])
    let constant = jvp(at: x, direction: v) { _ in Tensor([7.0, 8.0]) }
    #expect(constant.value.scalars == [7, 8] && constant.tangent.shape == [2] && constant.tangent.scalars == [0, 0])
    // Σ_j x_ij² per row: tangent 2 Σ_j x_ij v_ij.
    let rows = jvp(at: x, direction: v) { ($0 * $0).sum(squeezingAxes: 1) }
    let viaStructure = jvp(at: [x], direction: [v]) { [($0[0] * $0[0]).sum(squeezingAxes: 1)] }
    #expect(rows.tangent.scalars == viaStructure.tangent[0].scalars)
    #expect(rows.tangent.scalars == [2 * (0.5 - 2 - 3), 2 * (1 + 0 - 3)] && rows.value.shape == [2])
    // Inside a gradient, closing over the outer variable: d/dx ⟨J(x ⊙ y) v, 1⟩ at y = x is v.
    let outer = gradient(at: x) { y in jvp(at: x, direction: v) { $0 * y }.tangent.sum() }
    #expect(outer.scalars == v.scalars)
  }
}

@Suite("Closed-form Jacobians")
struct JacobianTests {
  @Test("Jacobian of elementwise exp on a matrix is diagonal with shape [2,3,2,3]")
  func elementwise() {
    let x = randomTensor([2, 3], seed: 841)
    let j = jacobian(at: x) { exp($0) }
    expectClose(j, diagonalHessian(x) { Foundation.exp($0) }, tolerance: exactTolerance)
  }

  @Test("Jacobian of A x is A")
  func linear() {
    let a = randomTensor([3, 4], seed: 842)
    let x = randomTensor([4], seed: 843)
    expectClose(jacobian(at: x) { matmul(a, $0) }, a, tolerance: exactTolerance)
  }

  @Test("Jacobian of softmax is diag(p) - p p^T")
  func softmax() {
    let x = randomTensor([4], seed: 844)
    let p = referenceSoftmax(x.scalars)
    let expected = makeMatrix(rows: 4, cols: 4) { i, j in (i == j ? p[i] : 0) - p[i] * p[j] }
    expectClose(jacobian(at: x) { $0.softmax(alongAxis: 0) }, expected, tolerance: exactTolerance)
  }

  @Test("Jacobian shape conventions for rank-0 outputs and inputs")
  func rankZero() {
    let x = randomTensor([3], seed: 845)
    expectClose(jacobian(at: x) { $0.sum() }, Tensor.ones([3]), tolerance: exactTolerance, "scalar output")
    let s = Tensor(0.5)
    let weights: Tensor = [1, 2, 3]
    expectClose(jacobian(at: s) { $0 * weights }, weights, tolerance: exactTolerance, "scalar input")
  }

  @Test("Jacobian of a nonlinear map matches finite differences")
  func nonlinear() {
    let a = randomTensor([3, 4], seed: 846)
    let x = randomTensor([4], seed: 847)
    let f: (Tensor) -> Tensor = { x in tanh(matmul(a, x)) * x.sum() }
    expectClose(jacobian(at: x, of: f), numericalJacobian(at: x, of: f), tolerance: 1e-6)
  }

  @Test("Jacobian of the gradient is the Hessian")
  func jacobianOfGradient() {
    let objective = SoftmaxRegression.objective
    let x = objective.point()
    let viaJacobian = jacobian(at: x) { gradient(at: $0, of: objective.f) }
    expectClose(viaJacobian, hessian(at: x, of: objective.f), tolerance: exactTolerance)
  }
}
