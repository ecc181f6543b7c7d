import Autodiff
import BilevelAD
import Foundation
import Testing

// Probes that once gave a silent wrong answer: the driver stopping on a tolerance met by
// an evaluation that did not converge, objectives that return more than one value, and a
// conjugate gradient breakdown read as a zero solution.

@Suite("Reliability: no false success")
struct ReliabilityTests {
  @Test("an unbounded inner problem never satisfies a hypergradient tolerance; the trace says why")
  func unboundedInnerProblem() {
    // g(x, y) = −Σ y is unbounded below: no inner solution exists, so F and ∇F are
    // meaningless, whatever number the evaluation produces.
    let problem = BilevelProblem(
      outer: { x, y in 0.5 * x.squared().sum() + 0 * y.sum() }, inner: { x, y in -y.sum() + 0 * x.sum() })
    let result = solve(
      problem, x0: Tensor([0.0]), y0: Tensor([0.0, 0.0]), algorithm: AIDBIO(outerStep: 0.1),
      stopping: StoppingRule(maxIterations: 3, hypergradientTolerance: 1e-3))
    #expect(result.stopReason != .tolerance)
    let first = result.trace.records[0]
    #expect(first.unreliable?.contains("inner solve") == true, "\(first)")
  }

  @Test("a NaN inner objective is reported as unreliable, and CG's breakdown is NaN, not zero")
  func nanInnerObjective() {
    let problem = BilevelProblem(
      outer: { x, y in (x * y).sum() }, inner: { x, y in log(x.sum() - 10) * y.squared().sum() })
    let evaluation = problem.evaluate(x: Tensor([1.0]), y: Tensor([1.0]))
    #expect(evaluation.unreliable != nil)
    let h = problem.implicitHypergradient(x: Tensor([1.0]), y: Tensor([0.0]))
    #expect(!h.converged)
    let allNaN = h.gradient.scalars.allSatisfy { $0.isNaN }
    #expect(allNaN, "a breakdown must not pass for ∇_x f: \(h.gradient)")
    let result = solve(
      problem, x0: Tensor([1.0]), y0: Tensor([1.0]), algorithm: AIDBIO(),
      stopping: StoppingRule(maxIterations: 2, hypergradientTolerance: 1e10))
    #expect(result.stopReason != .tolerance)
  }

  @Test("an objective that returns more than one value traps, naming the closure and the shape")
  func nonScalarObjective() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      // y[2] − t[2, 1] broadcasts to [2, 2]; f forgets to reduce.
      let t: Tensor = [[1.0], [2.0]]
      let problem = BilevelProblem(outer: { _, y in y - t }, inner: { _, y in y.squared().sum() })
      _ = problem.implicitHypergradient(x: Tensor([0.0]), y: Tensor([0.0, 0.0]))
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(
      text.contains("BilevelProblem: the outer objective f(x, y) must return one value, got shape [2, 2]"), "\(text)")
  }
}

@Suite("Reliability: inner solver messages")
struct InnerSolverMessageTests {
  @Test("an inner objective that becomes NaN is reported as NaN, with its iteration")
  func nanObjective() {
    // g = Σ y⁴ − 4 Σ y + log(3 − Σ y): NaN once Σ y > 3, which the first Newton step crosses.
    let problem = BilevelProblem(
      outer: { _, y in y.sum() },
      inner: { _, y in log(3 - y.sum()) * 0 + y.squared().squared().sum() - 4 * y.sum() + log(y.sum() - 2.5) })
    let solution = problem.solveInner(x: Tensor([0.0]), y0: Tensor([1.0, 1.0]))
    #expect(!solution.converged)
    #expect(solution.diagnostics.contains("NaN"), "\(solution.diagnostics)")
  }
}
