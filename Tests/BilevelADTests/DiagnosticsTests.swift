import Autodiff
import BilevelAD
import Testing

@Suite("Hypergradient diagnostics")
struct DiagnosticsTests {
  /// g(x, y) = ½ yᵀ D y − yᵀ x with D = diag(2, 1, −1): a saddle, not a minimum.
  let saddle = BilevelProblem(
    outer: { _, y in 0.5 * y.squared().sum() },
    inner: { x, y in 0.5 * (Tensor([2.0, 1.0, -1.0]) * y.squared()).sum() - dot(y, x) })

  @Test("CG reports negative curvature on a non-convex inner problem")
  func conjugateGradientNegativeCurvature() {
    let x = Tensor([1.0, 1.0, 1.0])
    let y = x / Tensor([2.0, 1.0, -1.0])  // the stationary point
    let result = saddle.implicitHypergradient(x: x, y: y, solver: .conjugateGradient())
    #expect(!result.converged)
    #expect(result.indefinite)
    #expect(result.diagnostics.contains("curvature"))
  }

  @Test("the dense solver reports a Hessian that is not positive definite, and still solves it")
  func denseIndefinite() {
    let x = Tensor([1.0, 1.0, 1.0])
    let y = x / Tensor([2.0, 1.0, -1.0])
    let result = saddle.implicitHypergradient(x: x, y: y, solver: .dense)
    #expect(!result.converged)
    #expect(result.indefinite)
    #expect(result.diagnostics.contains("not positive definite"))
    // H⁻¹ ∇_y f = y / d; ∇²_xy g = −I, so ∇F = y / d.
    #expect(relativeError(result.gradient, y / Tensor([2.0, 1.0, -1.0])) < 1e-12)
    let gmres = saddle.implicitHypergradient(x: x, y: y, solver: .gmres())
    #expect(gmres.converged)
    #expect(relativeError(gmres.gradient, result.gradient) < 1e-9)
  }

  @Test("a too-small iteration budget gives converged == false")
  func smallBudget() {
    let task = QuadraticBilevel(innerDimension: 10, conditionNumber: 100, seed: 1)
    let x = Tensor(randomNormal: [10], seed: 2)
    let result = task.problem.implicitHypergradient(
      x: x, y: task.innerSolution(at: x), solver: .conjugateGradient(maxIterations: 2, tolerance: 1e-10))
    #expect(!result.converged)
    #expect(result.iterations == 2)
    #expect(result.diagnostics.contains("stopped after 2 iterations"))
  }

  @Test("a y that is not the inner solution gives converged == false")
  func notAnInnerSolution() {
    let task = QuadraticBilevel(innerDimension: 5, seed: 1)
    let x = Tensor(randomNormal: [5], seed: 2)
    let result = task.problem.implicitHypergradient(x: x, y: Tensor.zeros([5]), solver: .dense)
    #expect(!result.converged)
    #expect(result.innerGradientNorm > 1e-3)
    #expect(result.diagnostics.contains("not an inner solution"))
  }

  @Test("checkHypergradient catches the identity solver on an ill-conditioned problem, and passes the exact one")
  func checkCatchesWrongEstimate() {
    let task = QuadraticBilevel(innerDimension: 6, conditionNumber: 1000, seed: 5)
    let x = Tensor(randomNormal: [6], seed: 6)
    let y = task.innerSolution(at: x)
    let direction = Tensor(randomNormal: [6], seed: 9)
    let approximate = task.problem.implicitHypergradient(x: x, y: y, solver: .identity(scale: 1))
    #expect(!approximate.converged)
    let bad = task.problem.checkHypergradient(x: x, y0: y, direction: direction, estimate: approximate.gradient)
    #expect(bad.relativeDiscrepancy > 0.1)
    let good = task.problem.checkHypergradient(x: x, y0: y, direction: direction, estimate: task.hypergradient(at: x))
    #expect(good.relativeDiscrepancy < 1e-6, "\(good)")
  }
}
