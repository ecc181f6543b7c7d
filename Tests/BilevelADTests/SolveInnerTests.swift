import Autodiff
import BilevelAD
import Testing

@Suite("Inner solver")
struct SolveInnerTests {
  @Test("both methods solve the quadratic inner problem to 1e-10", arguments: InnerSolverMethod.allCases)
  func quadratic(method: InnerSolverMethod) {
    let task = QuadraticBilevel(innerDimension: 8, conditionNumber: 50, seed: 2)
    let x = Tensor(randomNormal: [8], seed: 3)
    let result = task.problem.solveInner(
      x: x, y0: Tensor.zeros([8]), tolerance: 1e-10, maxIterations: 5000, method: method)
    #expect(result.converged, "\(result.diagnostics)")
    #expect(result.gradientNorm <= 1e-10)
    #expect(relativeError(result.solution, task.innerSolution(at: x)) < 1e-9)
  }

  @Test("Newton-CG solves ridge logistic regression in few iterations")
  func logistic() {
    let task = PerFeatureRidgeLogistic()
    let result = task.problem.solveInner(x: Tensor.zeros([task.features]) - 2, y0: Tensor.zeros([task.features]))
    #expect(result.converged)
    #expect(result.iterations < 15)
    #expect(result.counts.hessianVectorProducts > 0)
  }

  @Test("a budget that is too small is reported")
  func budget() {
    let task = QuadraticBilevel(innerDimension: 8, conditionNumber: 1000, seed: 2)
    let x = Tensor(randomNormal: [8], seed: 3)
    let result = task.problem.solveInner(x: x, y0: Tensor.zeros([8]), maxIterations: 2, method: .gradientDescent)
    #expect(!result.converged)
    #expect(result.iterations == 2)
    #expect(result.diagnostics.contains("stopped after 2 iterations"))
  }
}
