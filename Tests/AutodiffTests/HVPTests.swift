import Autodiff
import TestSupport
import Testing

// Hessian-vector products in all three modes on the shared objectives of
// TestProblems.swift (logistic regression with L2, a 21-parameter two-layer
// tanh MLP, Rosenbrock, softmax cross-entropy in two forms, and a quadratic
// with known Hessian).

/// Two AD results that should agree up to rounding.
private let crossModeTolerance = 1e-10
/// AD against central finite differences.
private let fdTolerance = 1e-6

@Suite("Hessian-vector products")
struct HVPTests {
  @Test(
    "hvp agrees with hessian * v and with every other mode",
    arguments: HVPMode.allCases, Objectives.all)
  func agreesWithHessianAndOtherModes(mode: HVPMode, objective: Objective) {
    let x = objective.point()
    let v = objective.direction()
    let n = objective.dimension
    let hv = hvp(at: x, direction: v, mode: mode, of: objective.f)
    expectShape(hv, [n], "hvp shape")
    let h = hessian(at: x, of: objective.f)
    expectShape(h, [n, n], "hessian shape")
    expectClose(hv, matmul(h, v), tolerance: crossModeTolerance, "hvp(\(mode)) vs hessian * v")
    for other in HVPMode.allCases where other != mode {
      let reference = hvp(at: x, direction: v, mode: other, of: objective.f)
      expectClose(hv, reference, tolerance: crossModeTolerance, "hvp(\(mode)) vs hvp(\(other))")
    }
  }

  @Test(
    "hvp agrees with finite differences of the gradient",
    arguments: HVPMode.allCases, Objectives.all)
  func agreesWithFiniteDifferences(mode: HVPMode, objective: Objective) {
    let x = objective.point()
    let v = objective.direction()
    let expected = numericalJVP(at: x, direction: v) { gradient(at: $0, of: objective.f) }
    let hv = hvp(at: x, direction: v, mode: mode, of: objective.f)
    expectClose(hv, expected, tolerance: fdTolerance)
  }

  @Test("hvp is linear in the direction", arguments: HVPMode.allCases)
  func linearInDirection(mode: HVPMode) {
    let objective = TwoLayerMLP.objective
    let x = objective.point()
    let v = objective.direction()
    let w = randomTensor(v.shape, seed: 77)
    let combined = 2.0 * v - w
    let lhs = hvp(at: x, direction: combined, mode: mode, of: objective.f)
    let hv = hvp(at: x, direction: v, mode: mode, of: objective.f)
    let hw = hvp(at: x, direction: w, mode: mode, of: objective.f)
    let rhs = zipScalars(hv, hw) { 2 * $0 - $1 }
    expectClose(lhs, rhs, tolerance: crossModeTolerance)
    let zero = hvp(at: x, direction: Tensor.zeros(v.shape), mode: mode, of: objective.f)
    expectClose(zero, Tensor.zeros(v.shape), tolerance: 1e-14, "zero direction")
  }

  @Test("Hessian is symmetric", arguments: Objectives.all)
  func hessianSymmetric(objective: Objective) {
    let h = hessian(at: objective.point(), of: objective.f)
    expectClose(h, referenceTranspose(h), tolerance: crossModeTolerance)
  }

  @Test("Hessian columns are hvps with basis vectors", arguments: HVPMode.allCases)
  func hessianColumns(mode: HVPMode) {
    let objective = Rosenbrock.objective
    let x = objective.point()
    let n = objective.dimension
    let h = hessian(at: x, of: objective.f).scalars
    for j in 0..<n {
      let basis = Tensor(shape: [n], scalars: (0..<n).map { $0 == j ? 1 : 0 })
      let column = hvp(at: x, direction: basis, mode: mode, of: objective.f)
      let expected = Tensor(shape: [n], scalars: (0..<n).map { h[$0 * n + j] })
      expectClose(column, expected, tolerance: crossModeTolerance, "column \(j)")
    }
  }

  @Test("Quadratic: hvp is A v in every mode and the Hessian is A", arguments: HVPMode.allCases)
  func quadraticKnownHessian(mode: HVPMode) {
    let a = Quadratic.matrixA()
    for seed: UInt64 in [1, 2, 3] {
      let x = randomTensor([Quadratic.dimension], seed: 600 + seed)
      let v = randomTensor([Quadratic.dimension], seed: 700 + seed)
      let hv = hvp(at: x, direction: v, mode: mode) { Quadratic.value($0) }
      expectClose(hv, referenceMatVec(a, v), tolerance: crossModeTolerance, "hvp at seed \(seed)")
    }
    let h = hessian(at: Quadratic.objective.point()) { Quadratic.value($0) }
    expectClose(h, a, tolerance: crossModeTolerance, "hessian")
  }

  @Test("Default mode is forwardOverReverse")
  func defaultMode() {
    let objective = LogisticRegression.objective
    let x = objective.point()
    let v = objective.direction()
    let byDefault = hvp(at: x, direction: v, of: objective.f)
    let explicit = hvp(at: x, direction: v, mode: .forwardOverReverse, of: objective.f)
    expectClose(byDefault, explicit, tolerance: 0)
  }

  @Test("Both softmax cross-entropy forms have the same value, gradient and hvp")
  func softmaxFormsAgree() {
    let x = SoftmaxRegression.objective.point()
    let v = SoftmaxRegression.objective.direction()
    let first = valueWithGradient(at: x) { SoftmaxRegression.loss($0) }
    let second = valueWithGradient(at: x) { SoftmaxRegression.lossViaLogSoftmax($0) }
    expectClose(first.value, second.value, tolerance: crossModeTolerance, "value")
    expectClose(first.gradient, second.gradient, tolerance: crossModeTolerance, "gradient")
    for mode in HVPMode.allCases {
      let h1 = hvp(at: x, direction: v, mode: mode) { SoftmaxRegression.loss($0) }
      let h2 = hvp(at: x, direction: v, mode: mode) { SoftmaxRegression.lossViaLogSoftmax($0) }
      expectClose(h1, h2, tolerance: crossModeTolerance, "hvp \(mode)")
    }
  }
}
