import Autodiff
import BilevelAD
import Foundation
import Testing

@Suite("Driver and traces")
struct DriverTests {
  let task = QuadraticBilevel(innerDimension: 6, conditionNumber: 10, seed: 7)
  var x0: Tensor { Tensor(randomNormal: [6], seed: 8) }
  var y0: Tensor { Tensor.zeros([6]) }

  func exactEvaluation(_ x: Tensor, _ y: Tensor) -> Evaluation {
    Evaluation(
      outerValue: task.outerValue(at: x), hypergradientNorm: task.hypergradient(at: x).norm().scalar,
      metrics: ["inner error": (y - task.innerSolution(at: x)).norm().scalar])
  }

  @Test("the iteration limit stops the run and every iteration is recorded")
  func iterations() {
    let result = solve(task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 7))
    #expect(result.stopReason == .maxIterations)
    #expect(result.trace.records.map(\.iteration) == Array(0...7))
    #expect(result.trace.records[0].counts == OracleCounts())
    let times = result.trace.records.map(\.time)
    #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
  }

  @Test("evaluateEvery records every k-th iteration and the last")
  func evaluateEvery() {
    let result = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 10), evaluateEvery: 4,
      evaluator: exactEvaluation)
    #expect(result.trace.records.map(\.iteration) == [0, 4, 8, 10])
  }

  @Test("the oracle budget, the tolerance and the observer stop the run")
  func stops() {
    let budget = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 1000, oracleBudget: 200),
      evaluator: exactEvaluation)
    #expect(budget.stopReason == .oracleBudget)
    let spent = budget.trace.records.last!.counts.total
    #expect(spent >= 200 && spent < 200 + 40)

    let tolerance = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(outerStep: 0.5),
      stopping: StoppingRule(maxIterations: 5000, hypergradientTolerance: 1e-6), evaluator: exactEvaluation)
    #expect(tolerance.stopReason == .tolerance)
    #expect(tolerance.trace.records.last!.hypergradientNorm! <= 1e-6)

    var seen = 0
    let observed = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 100),
      evaluator: exactEvaluation
    ) { _ in
      seen += 1
      return seen < 3
    }
    #expect(observed.stopReason == .observer)
    #expect(observed.trace.records.count == 3)

    let timed = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(),
      stopping: StoppingRule(maxIterations: 1_000_000, timeLimit: 0.05),
      evaluator: exactEvaluation)
    #expect(timed.stopReason == .timeLimit)
  }

  @Test("a diverging run is stopped and reported")
  func divergence() {
    let result = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(outerStep: 1e3, innerStep: 1),
      stopping: StoppingRule(maxIterations: 1000), evaluator: exactEvaluation)
    #expect(result.stopReason == .diverged)
  }

  @Test("a non-finite evaluation stops the run as diverged")
  func nonFiniteEvaluation() {
    let result = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 50)
    ) { _, _ in Evaluation(outerValue: .infinity, hypergradientNorm: .nan) }
    #expect(result.stopReason == .diverged)
    #expect(result.trace.records.count == 1)
  }

  @Test("the same configuration gives the same trace, bit for bit")
  func determinism() {
    let first = solve(task.problem, x0: x0, y0: y0, algorithm: ITDBIO(), stopping: StoppingRule(maxIterations: 5))
    let second = solve(task.problem, x0: x0, y0: y0, algorithm: ITDBIO(), stopping: StoppingRule(maxIterations: 5))
    #expect(first.trace.records.map(\.deterministicPart) == second.trace.records.map(\.deterministicPart))
  }

  @Test("traces written as CSV and JSON read back to the same numbers")
  func serialization() throws {
    let result = solve(
      task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 4),
      evaluator: exactEvaluation)
    let trace = result.trace
    let decoded = try Trace.fromJSON(try trace.json())
    #expect(decoded == trace)
    let lines = trace.csv().split(separator: "\n")
    #expect(lines.count == trace.records.count + 1)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let valueColumn = header.firstIndex(of: "outer_value")!
    let normColumn = header.firstIndex(of: "hypergradient_norm")!
    let metricColumn = header.firstIndex(of: "inner_error")!
    for (line, record) in zip(lines.dropFirst(), trace.records) {
      let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      #expect(Double(cells[valueColumn]) == record.outerValue)
      #expect(Double(cells[normColumn]) == record.hypergradientNorm)
      #expect(Double(cells[metricColumn]) == record.metrics["inner error"])
      #expect(Int(cells[header.firstIndex(of: "oracle_calls")!]) == record.counts.total)
    }
  }

  @Test("the default evaluation matches the closed form")
  func defaultEvaluation() {
    let x = x0
    let evaluation = task.problem.evaluate(x: x, y: y0)
    #expect(abs(evaluation.outerValue! - task.outerValue(at: x)) < 1e-9)
    #expect(abs(evaluation.hypergradientNorm! - task.hypergradient(at: x).norm().scalar) < 1e-8)
  }
}

@Suite("Driver: the former solver: label")
struct FormerSolverLabelTests {
  @available(*, deprecated, message: "exercises the deprecated label on purpose")
  @Test("solve(_:x0:y0:solver:) still runs, exactly as algorithm: does")
  func formerLabel() {
    let task = QuadraticBilevel(innerDimension: 4, conditionNumber: 5, seed: 1)
    let x0 = Tensor([0.5, -0.5, 1.0, 0.0])
    let y0 = Tensor.zeros([4])
    let old = solve(task.problem, x0: x0, y0: y0, solver: AIDBIO(), stopping: StoppingRule(maxIterations: 3))
    let new = solve(task.problem, x0: x0, y0: y0, algorithm: AIDBIO(), stopping: StoppingRule(maxIterations: 3))
    #expect(old.trace.records.map(\.deterministicPart) == new.trace.records.map(\.deterministicPart))
  }
}
