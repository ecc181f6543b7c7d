import Autodiff
import Dispatch

/// Runs a bilevel algorithm from (x0, y0) until a stopping rule fires, recording a trace.
///
/// Only the algorithm's `step` calls are timed and counted; the evaluation of F(x),
/// ‖∇F(x)‖ and task metrics at recorded iterations happens outside the timed path with
/// oracles of its own.
///
/// ```swift
/// let result = solve(problem, x0: x0, y0: y0, algorithm: BOME(),
///                    stopping: StoppingRule(maxIterations: 500, hypergradientTolerance: 1e-6))
/// print(result.trace.records.last!.hypergradientNorm!)
/// ```
///
/// - Parameters:
///   - problem: the bilevel problem.
///   - x0: the starting outer variable.
///   - y0: the starting inner variable.
///   - algorithm: the algorithm, configured.
///   - stopping: iterations, time, oracle budget and tolerance limits.
///   - evaluateEvery: record every this many iterations (and always the first and last).
///   - evaluator: measures F, ‖∇F‖ and metrics at (x, y); `problem.evaluate` by default.
///   - observe: called with each record; return false to stop the run.
/// - Returns: the final iterates, the trace and why the run stopped.
public func solve<Algorithm: BilevelAlgorithm>(
  _ problem: BilevelProblem, x0: Tensor, y0: Tensor, algorithm: Algorithm, stopping: StoppingRule = StoppingRule(),
  evaluateEvery: Int = 1, evaluator: ((Tensor, Tensor) -> Evaluation)? = nil,
  observe: ((TraceRecord) -> Bool)? = nil
) -> SolveResult<Tensor, Tensor> {
  require(evaluateEvery >= 1, "solve: evaluateEvery must be at least 1, got \(evaluateEvery)")
  require(stopping.maxIterations >= 0, "solve: maxIterations must be non-negative, got \(stopping.maxIterations)")
  var algorithm = algorithm
  let oracles = problem.makeOracles()
  let evaluate = evaluator ?? problem.evaluate
  var trace = Trace(algorithm: algorithm.name)
  var elapsed = 0.0

  let startTime = DispatchTime.now().uptimeNanoseconds
  algorithm.start(x: x0, y: y0, oracles: oracles)
  elapsed += Double(DispatchTime.now().uptimeNanoseconds - startTime) * 1e-9
  oracles.deadline = stopping.wallClockLimit.map { startTime + UInt64(min(max(0, $0), 1e9) * 1e9) }
  func wallClockPassed() -> Bool {
    guard let limit = stopping.wallClockLimit else { return false }
    return Double(DispatchTime.now().uptimeNanoseconds - startTime) * 1e-9 >= limit
  }

  func record(_ iteration: Int, direction: Tensor?) -> TraceRecord {
    let evaluation =
      wallClockPassed()
      ? Evaluation(unreliable: "not evaluated: the wall-clock limit was reached")
      : evaluate(algorithm.x, algorithm.y)
    let entry = TraceRecord(
      iteration: iteration, time: elapsed, counts: oracles.counts, outerValue: evaluation.outerValue,
      hypergradientNorm: evaluation.hypergradientNorm, directionNorm: direction.map { $0.norm().scalar },
      metrics: evaluation.metrics, unreliable: evaluation.unreliable)
    trace.records.append(entry)
    return entry
  }

  func shouldStop(_ entry: TraceRecord) -> StopReason? {
    if observe?(entry) == false { return .observer }
    // A non-finite evaluation (F or ‖∇F‖ overflowed) is divergence too.
    if entry.outerValue.map({ !$0.isFinite }) == true || entry.hypergradientNorm.map({ !$0.isFinite }) == true {
      return .diverged
    }
    // An unreliable evaluation (an inner or linear solve that did not converge) is no
    // evidence of stationarity: it never satisfies the tolerance.
    if let tolerance = stopping.hypergradientTolerance, let norm = entry.hypergradientNorm, norm <= tolerance,
      entry.unreliable == nil
    {
      return .tolerance
    }
    return nil
  }

  if let reason = shouldStop(record(0, direction: nil)) {
    return SolveResult(x: algorithm.x, y: algorithm.y, trace: trace, stopReason: reason)
  }
  var iteration = 0
  var reason = StopReason.maxIterations
  while true {
    if iteration >= stopping.maxIterations {
      reason = .maxIterations
      break
    }
    if let limit = stopping.timeLimit, elapsed >= limit {
      reason = .timeLimit
      break
    }
    if wallClockPassed() {
      reason = .timeLimit
      break
    }
    if let budget = stopping.oracleBudget, oracles.counts.total >= budget {
      reason = .oracleBudget
      break
    }
    let before = DispatchTime.now().uptimeNanoseconds
    let direction = algorithm.step(oracles: oracles)
    elapsed += Double(DispatchTime.now().uptimeNanoseconds - before) * 1e-9
    iteration += 1
    let finite = algorithm.x.scalars.allSatisfy(\.isFinite) && algorithm.y.scalars.allSatisfy(\.isFinite)
    let last = iteration >= stopping.maxIterations || !finite
    if iteration % evaluateEvery == 0 || last {
      if !finite {
        _ = record(iteration, direction: direction)
        reason = .diverged
        break
      }
      if let stop = shouldStop(record(iteration, direction: direction)) {
        reason = stop
        break
      }
    }
  }
  if trace.records.last?.iteration != iteration {
    _ = record(iteration, direction: nil)
  }
  return SolveResult(x: algorithm.x, y: algorithm.y, trace: trace, stopReason: reason)
}
