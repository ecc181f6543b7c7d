import Autodiff
import BilevelAD
import Foundation

/// `bilevel-cli run TASK --algorithm A[,B,...]`: runs algorithms one after the other and
/// compares them in one table; optionally writes traces (CSV, JSON) and an SVG plot.
enum RunCommand {
  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    let taskName = try arguments.choice("task", from: TaskRegistry.names)
    let names = try arguments.list("algorithm", from: AlgorithmRegistry.names)
    let iterations = try arguments.int("iterations", range: 0...)
    let seed = UInt64(try arguments.int("seed", range: 0...))
    let evaluateEvery = try arguments.int("evaluate-every", range: 1...)
    let corruption = try arguments.double("corruption", range: 0...1)
    let timeLimit = arguments.contains("time-limit") ? try arguments.double("time-limit", positive: true) : nil
    let budget = arguments.contains("oracle-budget") ? try arguments.int("oracle-budget", range: 1...) : nil
    let tolerance = arguments.contains("tolerance") ? try arguments.double("tolerance", positive: true) : nil
    let dataPath = arguments.contains("data") ? try arguments.path("data") : nil
    if dataPath != nil && !["hyperparam", "hypercleaning"].contains(taskName) {
      throw arguments.validationError("--data applies to the hyperparam and hypercleaning tasks, not '\(taskName)'")
    }
    let quiet = arguments.flag("quiet")
    let progress = ProgressLine(isEnabled: console.errorIsTerminal && !quiet, output: console.error)

    if !quiet { progress.update("preparing \(taskName)…") }
    let task = try TaskRegistry.entry(taskName)!.make(
      TaskOptions(seed: seed, dataPath: dataPath, corruption: corruption, evaluateHypergradient: true))
    // Configure every algorithm first, so that one that cannot run on this task is
    // reported before any time is spent.
    var algorithms: [(name: String, algorithm: any BilevelAlgorithm)] = []
    for name in names {
      let options = try algorithmOptions(arguments, task: task, seed: seed, algorithm: name)
      algorithms.append((name, try AlgorithmRegistry.entry(name)!.make(options)))
    }
    var results: [(name: String, result: SolveResult)] = []
    for (name, algorithm) in algorithms {
      let result = solve(
        task.problem, x0: task.x0, y0: task.y0, solver: algorithm,
        stopping: StoppingRule(maxIterations: iterations, timeLimit: timeLimit, oracleBudget: budget, hypergradientTolerance: tolerance),
        evaluateEvery: evaluateEvery, evaluator: task.evaluator
      ) { record in
        let norm = record.hypergradientNorm.map { ", ‖∇F‖ \(TextTable.format($0, significantDigits: 3))" } ?? ""
        progress.update("\(name): iteration \(record.iteration)/\(iterations)\(norm)")
        return true
      }
      results.append((name, result))
    }
    progress.finish()

    console.output(table(task: task, taskName: taskName, results: results).rendered() + "\n")
    for baseline in task.baselines {
      console.output("Reference, \(baseline.label): \(baseline.value)\n")
    }
    if let path = arguments.contains("csv") ? try arguments.path("csv") : nil {
      try OutputFile.write(csv(results.map(\.result.trace)), to: path)
    }
    if let path = arguments.contains("json") ? try arguments.path("json") : nil {
      try OutputFile.write(json(results.map(\.result.trace)), to: path)
    }
    if let path = arguments.contains("plot") ? try arguments.path("plot") : nil {
      let axis = try arguments.choice("plot-x", from: ["iteration", "time", "oracle-calls"])
      try OutputFile.write(plot(results.map(\.result.trace), task: taskName, metric: task.metrics.first, xAxis: axis), to: path)
    }
    if let failed = results.first(where: { $0.result.stopReason == .diverged }) {
      let at = failed.result.trace.records.last?.iteration ?? 0
      throw CLIError.runFailed(
        "\(failed.name) diverged on \(taskName) (a non-finite iterate at iteration \(at)); try a smaller --outer-step or --inner-step")
    }
  }

  /// The algorithm options from the command line, with the task's defaults and checks
  /// against the task's sizes.
  static func algorithmOptions(
    _ arguments: ParsedArguments, task: TaskInstance, seed: UInt64, algorithm: String
  ) throws(CLIError) -> AlgorithmOptions {
    let tuned = task.tunedSteps[algorithm]
    let innerStep = arguments.contains("inner-step") ? try arguments.double("inner-step", positive: true) : (tuned?.inner ?? task.innerStep)
    let outerStep = arguments.contains("outer-step") ? try arguments.double("outer-step", positive: true) : (tuned?.outer ?? task.outerStep)
    let innerSteps = arguments.contains("inner-steps") ? try arguments.int("inner-steps", range: 0...) : nil
    var batchSize = task.batchSize.map { _ in tuned?.batchSize ?? task.batchSize! }
    if arguments.contains("batch-size") {
      let size = try arguments.int("batch-size", range: 1...)
      if let counts = task.sampleCounts {
        let limit = min(counts.inner, counts.outer)
        guard size <= limit else {
          throw arguments.invalidValueError(
            "batch-size", reason: "the batch size must be at most \(limit), the number of samples of the smaller level")
        }
      }
      batchSize = size
    }
    return AlgorithmOptions(
      innerStep: innerStep, outerStep: outerStep, innerSteps: innerSteps, batchSize: batchSize, seed: seed,
      innerDimension: task.y0.scalarCount)
  }

  static func table(task: TaskInstance, taskName: String, results: [(name: String, result: SolveResult)]) -> TextTable {
    var headers = ["algorithm", "iterations", "time (s)", "oracle calls", "F(x)", "‖∇F(x)‖"]
    headers += task.metrics
    headers.append("stopped by")
    var table = TextTable(title: "\(taskName): \(results.count) algorithm\(results.count == 1 ? "" : "s")", headers: headers)
    for (name, result) in results {
      let last = result.trace.records.last!
      var row = [
        name, "\(last.iteration)", TextTable.format(last.time, significantDigits: 3), "\(last.counts.total)",
        last.outerValue.map { TextTable.format($0) } ?? "–", last.hypergradientNorm.map { TextTable.format($0, significantDigits: 3) } ?? "–",
      ]
      row += task.metrics.map { metric in last.metrics[metric].map { TextTable.format($0) } ?? "–" }
      row.append(result.stopReason.rawValue)
      table.append(row)
    }
    return table
  }

  static func csv(_ traces: [Trace]) -> String {
    var text = ""
    for (index, trace) in traces.enumerated() {
      let lines = trace.csv().split(separator: "\n", omittingEmptySubsequences: false)
      text += lines.dropFirst(index == 0 ? 0 : 1).joined(separator: "\n")
      if !text.hasSuffix("\n") { text += "\n" }
    }
    return text
  }

  static func json(_ traces: [Trace]) throws(CLIError) -> String {
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      return String(decoding: try encoder.encode(traces), as: UTF8.self) + "\n"
    } catch {
      throw CLIError.runFailed("could not encode the traces as JSON: \(error)")
    }
  }

  /// Curves of the hypergradient norm (or the task's first metric when the norm is not
  /// recorded) against iterations, time or oracle calls; log scale for norms.
  static func plot(_ traces: [Trace], task: String, metric: String?, xAxis: String) -> String {
    let hasNorm = traces.contains { $0.records.contains { $0.hypergradientNorm != nil } }
    let label = hasNorm ? "‖∇F(x)‖" : (metric ?? "F(x)")
    var chart = SVGPlot(
      title: "\(task): \(label)", xLabel: xAxis == "oracle-calls" ? "oracle calls" : (xAxis == "time" ? "time (s)" : "iteration"),
      yLabel: label, yScale: hasNorm ? .logarithmic : .linear)
    for trace in traces {
      let points = trace.records.compactMap { record -> (Double, Double)? in
        let y = hasNorm ? record.hypergradientNorm : (metric.flatMap { record.metrics[$0] } ?? record.outerValue)
        guard let y else { return nil }
        let x: Double
        switch xAxis {
        case "time": x = record.time
        case "oracle-calls": x = Double(record.counts.total)
        default: x = Double(record.iteration)
        }
        return (x, y)
      }
      chart.series.append(SVGPlot.Series(name: trace.algorithm, x: points.map(\.0), y: points.map(\.1)))
    }
    return chart.rendered()
  }
}
