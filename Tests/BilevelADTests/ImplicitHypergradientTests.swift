import Autodiff
import BilevelAD
import Foundation
import Testing

@Suite("Implicit hypergradient")
struct ImplicitHypergradientTests {
  let task = QuadraticBilevel(innerDimension: 8, conditionNumber: 100, seed: 3)
  var x: Tensor { Tensor(randomNormal: [8], seed: 4) }

  @Test(
    "dense, conjugate gradient and GMRES match the closed form to 1e-9",
    arguments: [
      LinearSolver.dense, .conjugateGradient(maxIterations: 100, tolerance: 1e-12),
      .gmres(maxIterations: 100, restart: 20, tolerance: 1e-12),
    ])
  func exactSolvers(solver: LinearSolver) {
    let result = task.problem.implicitHypergradient(x: x, y: task.innerSolution(at: x), solver: solver)
    #expect(relativeError(result.gradient, task.hypergradient(at: x)) < 1e-9)
    #expect(result.converged, "\(result.diagnostics)")
    #expect(result.diagnostics.isEmpty)
    #expect(!result.indefinite)
  }

  @Test("every HVP mode gives the same implicit hypergradient", arguments: HVPMode.allCases)
  func hvpModes(mode: HVPMode) {
    let result = task.problem.implicitHypergradient(
      x: x, y: task.innerSolution(at: x), solver: .conjugateGradient(maxIterations: 100, tolerance: 1e-12),
      hvpMode: mode)
    #expect(relativeError(result.gradient, task.hypergradient(at: x)) < 1e-9)
  }

  @Test("the Neumann series converges geometrically at rate max|1 − αλ| per term")
  func neumannRate() {
    let small = QuadraticBilevel(innerDimension: 6, conditionNumber: 10, seed: 7)
    let x = Tensor(randomNormal: [6], seed: 8)
    let exact = small.hypergradient(at: x)
    let y = small.innerSolution(at: x)
    let stepSize = 0.1  // 1 / λ_max, so the rate is 1 − λ_min / λ_max = 0.9
    let errors = stride(from: 10, through: 60, by: 10).map { terms in
      relativeError(
        small.problem.implicitHypergradient(x: x, y: y, solver: .neumann(terms: terms, stepSize: stepSize)).gradient,
        exact)
    }
    let expectedRatio = Foundation.pow(0.9, 10.0)
    for (earlier, later) in zip(errors, errors.dropFirst()) {
      #expect(later < earlier)
      #expect(abs(later / earlier - expectedRatio) < 0.05 * expectedRatio, "ratio \(later / earlier)")
    }
    let converged = small.problem.implicitHypergradient(
      x: x, y: y, solver: .neumann(terms: 400, stepSize: stepSize, tolerance: 1e-12))
    #expect(relativeError(converged.gradient, exact) < 1e-10)
    #expect(converged.converged)
  }

  @Test("CG warm-started at the solution needs no iterations")
  func warmStart() {
    let y = task.innerSolution(at: x)
    let cold = task.problem.implicitHypergradient(
      x: x, y: y, solver: .conjugateGradient(maxIterations: 200, tolerance: 1e-10))
    let warm = task.problem.implicitHypergradient(
      x: x, y: y, solver: .conjugateGradient(maxIterations: 200, tolerance: 1e-10), initialGuess: cold.linearSolution)
    #expect(cold.iterations > 5)
    #expect(warm.iterations <= 1)
    #expect(relativeError(warm.gradient, task.hypergradient(at: x)) < 1e-8)
  }

  @Test(
    "on ridge logistic regression with per-feature weights, the implicit hypergradient matches finite differences of F")
  func nonquadratic() {
    let task = PerFeatureRidgeLogistic()
    let x = Tensor(randomNormal: [task.features], seed: 21) * 0.5 - 1
    let inner = task.problem.solveInner(x: x, y0: Tensor.zeros([task.features]), tolerance: 1e-12)
    #expect(inner.converged)
    let result = task.problem.implicitHypergradient(
      x: x, y: inner.solution, solver: .conjugateGradient(maxIterations: 100, tolerance: 1e-12))
    #expect(result.converged, "\(result.diagnostics)")
    for seed in UInt64(30)..<UInt64(33) {
      let check = task.problem.checkHypergradient(
        x: x, y0: inner.solution, direction: Tensor(randomNormal: [task.features], seed: seed),
        estimate: result.gradient)
      #expect(check.innerSolvesConverged)
      #expect(check.relativeDiscrepancy < 1e-6, "\(check)")
    }
    let dense = task.problem.implicitHypergradient(x: x, y: inner.solution, solver: .dense)
    #expect(relativeError(dense.gradient, result.gradient) < 1e-9)
  }

  @Test("CG with k iterations uses k HVPs, one cross product, one ∇f and one ∇_y g")
  func oracleCounts() {
    let result = task.problem.implicitHypergradient(
      x: x, y: task.innerSolution(at: x), solver: .conjugateGradient(maxIterations: 5, tolerance: 1e-14))
    #expect(result.iterations == 5)
    var expected = OracleCounts()
    expected.hessianVectorProducts = 5
    expected.crossProducts = 1
    expected.outerGradientX = 1
    expected.outerGradientY = 1
    expected.innerGradientY = 1
    #expect(result.counts == expected)
    let dense = task.problem.implicitHypergradient(x: x, y: task.innerSolution(at: x), solver: .dense)
    #expect(dense.counts.hessianVectorProducts == 8)
    let neumann = task.problem.implicitHypergradient(
      x: x, y: task.innerSolution(at: x), solver: .neumann(terms: 7, stepSize: 0.01))
    #expect(neumann.counts.hessianVectorProducts == 7)  // 6 for the series, 1 for the residual
  }
}
