import Autodiff
import Foundation
import TestSupport
import Testing

// Third- and fourth-order derivatives built by nesting the public operators.

private let fdTolerance = 1e-6
private let exactTolerance = 1e-10

/// `d^n/dx^n f` for a function with one-element output, by nesting `gradient`
/// n times (each level sums the inner derivative, which for a one-element
/// input is the derivative itself).
private func nthDerivative(_ n: Int, at x: Tensor, of f: @escaping (Tensor) -> Tensor) -> Tensor {
  if n == 0 { return f(x) }
  return gradient(at: x) { y in nthDerivative(n - 1, at: y, of: f).sum() }
}

/// The same with nested forward mode (`jvp` along 1).
private func nthForwardDerivative(_ n: Int, at x: Tensor, of f: @escaping (Tensor) -> Tensor) -> Tensor {
  if n == 0 { return f(x) }
  let one = Tensor(shape: x.shape, scalars: [Double](repeating: 1, count: x.scalarCount))
  return jvp(at: x, direction: one) { y in nthForwardDerivative(n - 1, at: y, of: f) }.tangent
}

@Suite("Third-order derivatives")
struct ThirdOrderTests {
  /// `x -> v^T H(x) v` with the Hessian from `hessian(at:of:)` (used only as
  /// the finite-difference reference).
  static func curvature(of f: @escaping (Tensor) -> Tensor, along v: Tensor) -> (Tensor) -> Tensor {
    { x in
      let h = hessian(at: x, of: f)
      let n = x.scalarCount
      let hv = matmul(h.reshaped(to: [n, n]), v.reshaped(to: [n]))
      return dot(hv, v.reshaped(to: [n]))
    }
  }

  /// The finite-difference reference (2n Hessians) is computed once per
  /// objective; every HVP mode is then compared against it.
  @Test(
    "gradient of v^T H(x) v through hvp matches finite differences, every mode",
    arguments: Objectives.nonQuadratic)
  func gradientOfCurvature(objective: Objective) {
    let x = objective.point()
    let v = objective.direction()
    let f = objective.f
    let expected = numericalGradient(at: x, of: Self.curvature(of: f, along: v))
    for mode in HVPMode.allCases {
      let third = gradient(at: x) { x in dot(hvp(at: x, direction: v, mode: mode) { f($0) }, v) }
      expectClose(third, expected, tolerance: fdTolerance, "\(mode)")
    }
  }

  @Test("Rosenbrock third derivative matches the closed form", arguments: HVPMode.allCases)
  func rosenbrockClosedForm(mode: HVPMode) {
    let x = Rosenbrock.objective.point()
    let v = Rosenbrock.objective.direction()
    let third = gradient(at: x) { x in
      dot(hvp(at: x, direction: v, mode: mode) { Rosenbrock.value($0) }, v)
    }
    expectClose(third, Rosenbrock.analyticThirdOrder(x, direction: v), tolerance: exactTolerance)
  }

  @Test(
    "sum(tanh(x)): gradient of v^T H v is tanh'''(x) v^2 = -2 (1 - t^2)(1 - 3 t^2) v^2", arguments: HVPMode.allCases)
  func tanhClosedForm(mode: HVPMode) {
    // tanh's derivative rules go through fused primitives (a (1 - b^2), 2 a b): this
    // differentiates them twice more, in every mode.
    let x = randomTensor([5], seed: 903)
    let v = randomTensor([5], seed: 904)
    let third = gradient(at: x) { x in
      dot(hvp(at: x, direction: v, mode: mode) { tanh($0).sum() }, v)
    }
    let expected = zipScalars(x, v) { x, v in
      let t = Foundation.tanh(x)
      return -2 * (1 - t * t) * (1 - 3 * t * t) * v * v
    }
    expectClose(third, expected, tolerance: exactTolerance)
    let fourth = hessian(at: x) { x in hessian(at: x) { tanh($0).sum() }.sum() }
    let expectedFourth = x.scalars.map { x in
      let t = Foundation.tanh(x)
      return 8 * t * (1 - t * t) * (2 - 3 * t * t)
    }
    expectClose(fourth, diagonalMatrix(expectedFourth), tolerance: exactTolerance)
  }

  @Test("sum(exp(x)): gradient of v^T H v is exp(x) v^2", arguments: HVPMode.allCases)
  func expClosedForm(mode: HVPMode) {
    let x = randomTensor([4], seed: 901)
    let v = randomTensor([4], seed: 902)
    let third = gradient(at: x) { x in
      dot(hvp(at: x, direction: v, mode: mode) { exp($0).sum() }, v)
    }
    let expected = zipScalars(x, v) { Foundation.exp($0) * $1 * $1 }
    expectClose(third, expected, tolerance: exactTolerance)
  }

  @Test("Third-order tensor contracted by jvp of hvp", arguments: HVPMode.allCases)
  func jvpOfHVP(mode: HVPMode) {
    // d/dt hvp(x + t w, v) = T(x)[v, w, .]; for sum(x^3) / 6 T is diagonal
    // with ones, so the result is v * w.
    let x = randomTensor([3], seed: 903)
    let v = randomTensor([3], seed: 904)
    let w = randomTensor([3], seed: 905)
    let (_, tangent) = jvp(at: x, direction: w) { x in
      hvp(at: x, direction: v, mode: mode) { pow($0, 3).sum() / 6.0 }
    }
    expectClose(tangent, zipScalars(v, w, *), tolerance: exactTolerance)
  }

  @Test("Hessian of the gradient of a scalar function: third derivative of x^4 is 24 x")
  func hessianOfGradient() {
    let x = Tensor(0.7)
    let third = hessian(at: x) { x in gradient(at: x) { pow($0, 4) } }
    expectClose(third.scalars[0], 24 * 0.7, tolerance: exactTolerance)
  }
}

@Suite("Fourth-order derivatives")
struct FourthOrderTests {
  @Test("Nested gradient of sum(x^4) gives 4x^3, 12x^2, 24x, 24")
  func gradientTower() {
    let x = Tensor([0.7])
    let f: (Tensor) -> Tensor = { pow($0, 4).sum() }
    let a = 0.7
    let expected = [4 * a * a * a, 12 * a * a, 24 * a, 24.0]
    for order in 1...4 {
      let d = nthDerivative(order, at: x, of: f)
      expectShape(d, [1], "order \(order)")
      expectClose(d.scalars[0], expected[order - 1], tolerance: exactTolerance, "order \(order)")
    }
  }

  @Test("Fourth derivative of x*x*x*x on a rank-0 tensor is 24 at several points")
  func productRuleTower() {
    for a in [-1.3, 0.0, 0.4, 2.0] {
      let d = nthDerivative(4, at: Tensor(a), of: { x in x * x * x * x })
      expectClose(d.scalars[0], 24, tolerance: exactTolerance, "at \(a)")
    }
  }

  @Test("Nested jvp (forward^4) of sum(x^4) and exp(2x)")
  func forwardTower() {
    let x = Tensor([0.7])
    let a = 0.7
    let d4 = nthForwardDerivative(4, at: x) { pow($0, 4).sum() }
    expectClose(d4.scalars[0], 24, tolerance: exactTolerance, "x^4")
    let d3 = nthForwardDerivative(3, at: x) { pow($0, 4).sum() }
    expectClose(d3.scalars[0], 24 * a, tolerance: exactTolerance, "x^4 third")
    for order in 1...4 {
      let d = nthForwardDerivative(order, at: x) { exp(2.0 * $0).sum() }
      let expected = Foundation.pow(2.0, Double(order)) * Foundation.exp(2 * a)
      expectClose(d.scalars[0], expected, tolerance: exactTolerance, "exp(2x) order \(order)")
    }
  }

  @Test("Alternating jvp and gradient to fourth order")
  func alternatingTower() {
    let x = Tensor([0.7])
    let one = Tensor([1.0])
    let f: (Tensor) -> Tensor = { exp(2.0 * $0).sum() }
    let d4 = jvp(at: x, direction: one) { x in
      gradient(at: x) { x in
        jvp(at: x, direction: one) { x in
          gradient(at: x, of: f)
        }.tangent.sum()
      }
    }.tangent
    expectClose(d4.scalars[0], 16 * Foundation.exp(1.4), tolerance: exactTolerance)
  }

  @Test("hvp of the second derivative gives the fourth derivative", arguments: HVPMode.allCases)
  func hvpOfSecondDerivative(mode: HVPMode) {
    let x = Tensor([0.7])
    let one = Tensor([1.0])
    let f: (Tensor) -> Tensor = { pow($0, 4).sum() }
    let secondDerivative: (Tensor) -> Tensor = { x in nthDerivative(2, at: x, of: f).sum() }
    let d4 = hvp(at: x, direction: one, mode: mode, of: secondDerivative)
    expectClose(d4.scalars[0], 24, tolerance: exactTolerance)
    // And the other way round: second derivative of an hvp (f'' * 1).
    let viaHVP: (Tensor) -> Tensor = { x in hvp(at: x, direction: one, mode: mode) { exp(2.0 * $0).sum() }.sum() }
    let d4b = nthDerivative(2, at: x, of: viaHVP)
    expectClose(d4b.scalars[0], 16 * Foundation.exp(1.4), tolerance: exactTolerance)
  }

  @Test("Hessian of the Hessian of sum(x^4) / 24 on a vector is diagonal identity blocks")
  func hessianOfHessian() {
    // f = sum(x^4)/24: H = diag(x^2 / 2); d^2 H_ii / dx_i^2 = 1, all others 0.
    let x = randomTensor([2], seed: 911)
    let h4 = hessian(at: x) { x in hessian(at: x) { pow($0, 4).sum() / 24.0 }.sum() }
    expectClose(h4, identityMatrix(2), tolerance: exactTolerance)
  }
}
