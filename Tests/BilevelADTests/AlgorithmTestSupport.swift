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
  solve(
    problem, x0: x0, y0: y0, algorithm: algorithm, stopping: StoppingRule(maxIterations: iterations),
    evaluator: evaluator
  )
  .trace.records.map(\.deterministicPart)
}

/// Checks that `make(seed)` runs identically for the same seed and differently for another.
func expectSeedDeterminism(
  name: String, problem: BilevelProblem, x0: Tensor, y0: Tensor, evaluator: @escaping (Tensor, Tensor) -> Evaluation,
  make: (UInt64) -> any BilevelAlgorithm, sourceLocation: SourceLocation = #_sourceLocation
) {
  func trace(_ seed: UInt64) -> [TraceRecord] {
    let algorithm = make(seed)
    #expect(algorithm.name == name, sourceLocation: sourceLocation)
    return deterministicTrace(algorithm, problem: problem, x0: x0, y0: y0, evaluator: evaluator)
  }
  let first = trace(5)
  #expect(first == trace(5), sourceLocation: sourceLocation)
  #expect(first.last!.outerValue != trace(6).last!.outerValue, sourceLocation: sourceLocation)
}

/// ‖∇F‖ at the end of a run's budget: the last record for a deterministic method, the
/// median of the last tenth of the records (at least one) for a stochastic one, so that a
/// level is asserted where the run ends, not where it first dips.
func endOfBudgetNorm(_ trace: Trace, stochastic: Bool) -> Double {
  let norms = trace.records.compactMap(\.hypergradientNorm)
  guard stochastic else { return norms.last ?? .nan }
  let tail = norms.suffix(max(1, norms.count / 10)).sorted()
  return SeedStatistics.quantile(tail, 0.5)
}

/// Runs `testCase` for its whole budget and expects ‖∇F‖ at the end (`endOfBudgetNorm`)
/// to be at most its level, and ‖∇F(x0)‖ to be `start` (to 0.01) or above `minimumStart`.
func expectLevelAtEndOfBudget(
  _ testCase: AlgorithmCase, problem: BilevelProblem, x0: Tensor, y0: Tensor, evaluateEvery: Int,
  stochastic: Bool, start: Double? = nil, minimumStart: Double? = nil,
  evaluator: @escaping (Tensor, Tensor) -> Evaluation, sourceLocation: SourceLocation = #_sourceLocation
) {
  let result = solve(
    problem, x0: x0, y0: y0, algorithm: testCase.algorithm, stopping: StoppingRule(maxIterations: testCase.iterations),
    evaluateEvery: evaluateEvery, evaluator: evaluator)
  let first = result.trace.records.first!.hypergradientNorm!
  if let start { #expect(abs(first - start) < 0.01, sourceLocation: sourceLocation) }
  if let minimumStart { #expect(first > minimumStart, sourceLocation: sourceLocation) }
  let final = endOfBudgetNorm(result.trace, stochastic: stochastic)
  #expect(
    final <= testCase.level, "\(testCase.algorithm.name) ends at \(final) (\(result.stopReason))",
    sourceLocation: sourceLocation)
}
