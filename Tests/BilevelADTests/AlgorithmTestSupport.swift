import Autodiff
import BilevelAD
import Testing

/// The oracle calls each of the first `steps` steps of `algorithm` makes on `problem`
/// (none may be made by `start`).
func stepCounts(
  _ algorithm: some BilevelAlgorithm, problem: BilevelProblem, x0: Tensor, y0: Tensor, steps: Int = 1
) -> [OracleCounts] {
  var algorithm = algorithm
  let oracles = problem.makeOracles()
  algorithm.start(x: x0, y: y0, oracles: oracles)
  #expect(oracles.counts == OracleCounts())
  return (0..<steps).map { _ in
    let before = oracles.counts
    _ = algorithm.step(oracles: oracles)
    return oracles.counts - before
  }
}

/// The time-free records of `iterations` steps of `algorithm` from (x0, y0).
func deterministicTrace(
  _ algorithm: any BilevelAlgorithm, problem: BilevelProblem, x0: Tensor, y0: Tensor, iterations: Int = 4,
  evaluator: @escaping (Tensor, Tensor) -> Evaluation
) -> [TraceRecord] {
  solve(problem, x0: x0, y0: y0, solver: algorithm, stopping: StoppingRule(maxIterations: iterations), evaluator: evaluator)
    .trace.records.map(\.deterministicPart)
}
