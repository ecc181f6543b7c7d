import Autodiff
import BilevelAD
import Testing

@Suite("Coreset toy on the simplex")
struct ConstrainedCoresetTests {
  @Test("Prox-F2BA keeps every iterate on the simplex and reaches the closest point within 1e-3")
  func proxF2BA() {
    let toy = CoresetToy()
    let evaluate = toy.simplexEvaluator()
    let result = solve(
      toy.simplexProblem, x0: Tensor(shape: [4], repeating: 0.25), y0: [0, 3],
      solver: ProxF2BA(constraint: .simplex, multiplier: 1e4, innerStepSize: 0.2, innerSteps: 10, outerStepSize: 0.05),
      stopping: StoppingRule(maxIterations: 2000, hypergradientTolerance: 1e-9), evaluateEvery: 10
    ) { p, theta in
      var evaluation = evaluate(p, theta)
      evaluation.metrics["feasible"] = ConstraintSet.simplex.contains(p, tolerance: 1e-12) ? 1 : 0
      return evaluation
    }
    #expect(result.trace.records.allSatisfy { $0.metrics["feasible"] == 1 })
    let final = result.trace.records.last!
    #expect(final.metrics["hull point distance"]! < 1e-3, "\(final.metrics)")
    #expect(abs(final.outerValue! - toy.optimalValue) < 1e-3)
  }
}
