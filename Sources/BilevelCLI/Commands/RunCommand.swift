import Autodiff
import BilevelAD
import Foundation

/// `bilevel-cli run TASK --algorithm A[,B,...]`: runs algorithms one after the other and
/// compares them in one table; optionally writes traces (CSV, JSON) and an SVG plot.
enum RunCommand {
  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    // --time-limit bounds the whole command's wall-clock time, evaluations included.
    let commandStart = Date()
    let taskName = try arguments.choice("task", from: TaskRegistry.names)
    let names = try arguments.list("algorithm", from: AlgorithmCatalog.names)
    let iterations = try arguments.int("iterations", range: 0...)
    let seed = UInt64(try arguments.int("seed", range: 0...))
    let evaluateEvery = try arguments.int("evaluate-every", range: 1...)
    let corruption = try arguments.double("corruption", range: 0...1)
    let timeLimit = arguments.contains("time-limit") ? try arguments.double("time-limit", positive: true) : nil
    let budget = arguments.contains("oracle-budget") ? try arguments.int("oracle-budget", range: 1...) : nil
    let tolerance = arguments.contains("tolerance") ? try arguments.double("tolerance", positive: true) : nil
    let dataPath = arguments.contains("data") ? try arguments.path("data") : nil
    if dataPath != nil && !TaskRegistry.dataTasks.contains(taskName) {
      throw arguments.validationError(
        "--data applies to the \(TaskRegistry.dataTasks.joined(separator: ", ")) tasks, not '\(taskName)'")
    }
    if arguments.contains("corruption") && !TaskRegistry.corruptionTasks.contains(taskName) {
      throw arguments.validationError(
        "--corruption applies to the \(TaskRegistry.corruptionTasks.joined(separator: ", ")) tasks, not '\(taskName)'")
    }
    for option in ["data-limit", "header", "no-header"] where arguments.contains(option) && dataPath == nil {
      throw arguments.validationError("--\(option) applies to a --data file, and none was given")
    }
    let hidden = try arguments.int("hidden", range: 1...4096)
    if arguments.contains("hidden") && taskName != "hypercleaning-mlp" {
      throw arguments.validationError("--hidden applies to the hypercleaning-mlp task, not '\(taskName)'")
    }
    let dimension = arguments.contains("dimension") ? try arguments.int("dimension", range: 3...400) : nil
    if dimension != nil && !TaskRegistry.dimensionTasks.contains(taskName) {
      throw arguments.validationError(
        "--dimension applies to the \(TaskRegistry.dimensionTasks.joined(separator: ", ")) tasks, not '\(taskName)'")
    }
    let quiet = arguments.flag("quiet")
    let progress = ProgressLine(isEnabled: console.errorIsTerminal && !quiet, output: console.error)
    // Outputs are checked before any work: a long run must not be lost to a bad path.
    let standardOutputTaken = try checkOutputs(arguments, dataPath: dataPath)
    // With '-' for an output, standard output carries only that output; the table and the
    // notes go to standard error.
    let report: @Sendable (String) -> Void = standardOutputTaken ? console.error : console.output

    if !quiet { progress.update("preparing \(taskName)…") }
    let maximumDataBytes = try arguments.int("data-limit", range: 1...(1 << 20)) << 20
    let header = try headerChoice(arguments)
    let evaluateHypergradient = !arguments.flag("iterate-metrics-only")
    // The task of one seed: its data split or generated data and its initial point.
    func taskInstance(seed: UInt64) throws(CLIError) -> TaskInstance {
      try TaskRegistry.instance(
        taskName,
        options: TaskOptions(
          seed: seed, corruption: corruption, hidden: hidden, dimension: dimension,
          evaluateHypergradient: evaluateHypergradient),
        dataPath: dataPath, maximumDataBytes: maximumDataBytes, header: header)
    }
    let task = try taskInstance(seed: seed)
    if arguments.contains("batch-size") && task.sampleCounts == nil {
      throw arguments.validationError("--batch-size applies to tasks with samples (finite sums), not '\(taskName)'")
    }
    let plotAxis = try arguments.choice("plot-x", from: ["iteration", "time", "oracle-calls"])
    let plotMetric = try arguments.contains("plot-metric") ? arguments.string("plot-metric") : nil
    if let plotMetric {
      let metrics = ["hypergradient-norm", "outer-value"] + task.metrics
      if !metrics.contains(plotMetric) {
        throw arguments.invalidValueError(
          "plot-metric", reason: "\(taskName) records \(metrics.map { "'\($0)'" }.joined(separator: ", "))")
      }
    }
    // Configure every algorithm first, so that one that cannot run on this task is
    // reported before any time is spent.
    let seedCount = try arguments.int("seeds", range: 1...1000)
    var algorithms: [(name: String, runs: [any BilevelAlgorithm])] = []
    for name in names {
      var runs: [any BilevelAlgorithm] = []
      for k in 0..<seedCount {
        let options = try algorithmOptions(arguments, task: task, seed: seed &+ UInt64(k), algorithm: name)
        do {
          runs.append(try AlgorithmCatalog.entry(name)!.make(options))
        } catch {
          throw CLIError.runFailed(error.description)
        }
      }
      algorithms.append((name, runs))
    }
    // Seed k draws its own task (the data split or generated data, and the initial point,
    // from seed + k), so that a band over seeds shows the spread over problems as well as
    // over samplers; the task is built when its runs start, one seed's task at a time.
    var solvedRuns = [[SolveResult<Tensor, Tensor>]](repeating: [], count: algorithms.count)
    var runsLeft = algorithms.reduce(0) { $0 + $1.runs.count }
    for k in 0..<seedCount {
      let seedTask: TaskInstance
      if k == 0 {
        seedTask = task
      } else {
        if !quiet { progress.update("preparing \(taskName), seed \(seed &+ UInt64(k))…") }
        seedTask = try taskInstance(seed: seed &+ UInt64(k))
      }
      for (index, (name, runs)) in algorithms.enumerated() {
        // The command's remaining time, shared equally by the runs still to come.
        let share = timeLimit.map { max(0, $0 - Date().timeIntervalSince(commandStart)) / Double(runsLeft) }
        runsLeft -= 1
        let label = seedCount > 1 ? "\(name) (seed \(seed &+ UInt64(k)))" : name
        var result = solve(
          seedTask.problem, x0: seedTask.x0, y0: seedTask.y0, algorithm: runs[k],
          stopping: StoppingRule(
            maxIterations: iterations, oracleBudget: budget, hypergradientTolerance: tolerance,
            wallClockLimit: share),
          evaluateEvery: evaluateEvery, evaluator: seedTask.evaluator
        ) { record in
          let norm = record.hypergradientNorm.map { ", ‖∇F‖ \(TextTable.format($0, significantDigits: 3))" } ?? ""
          progress.update("\(label): iteration \(record.iteration)/\(iterations)\(norm)")
          return true
        }
        result.trace.algorithm = label
        solvedRuns[index].append(result)
      }
    }
    let results = zip(algorithms, solvedRuns).map { RunResult(name: $0.0.name, runs: $0.1) }
    progress.finish()

    report(table(task: task, taskName: taskName, results: results).rendered() + "\n")
    for result in results {
      if let reason = result.runs.compactMap({ $0.trace.records.last?.unreliable }).first {
        report("* \(result.name): the last evaluation is unreliable, ‖∇F‖ is no evidence of stationarity: \(reason)\n")
      }
    }
    for baseline in task.baselines {
      let which = seedCount > 1 ? " (seed \(seed))" : ""
      report("Reference\(which), \(baseline.label): \(TaskRegistry.format(baseline))\n")
    }
    if task.constraint != .unconstrained {
      for result in results where result.runs.contains(where: { !task.constraint.contains($0.x, tolerance: 1e-9) }) {
        report("Note: \(result.name) does not keep x in the task's constraint set; its final x is infeasible.\n")
      }
    }
    let traces = results.flatMap { $0.runs.map(\.trace) }
    if let path = arguments.contains("csv") ? try arguments.path("csv") : nil {
      try OutputFile.write(csv(traces), to: path, console: console)
    }
    if let path = arguments.contains("json") ? try arguments.path("json") : nil {
      try OutputFile.write(json(traces), to: path, console: console)
    }
    if let path = arguments.contains("plot") ? try arguments.path("plot") : nil {
      try OutputFile.write(
        plot(results, task: taskName, metric: plotMetric, xAxis: plotAxis, taskMetrics: task.metrics), to: path,
        console: console)
    }
    if let directory = arguments.contains("plot-dir") ? try arguments.path("plot-dir") : nil {
      do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      } catch {
        throw CLIError.cannotCreate(
          path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
      }
      for quantity in ["hypergradient-norm", "outer-value"] + task.metrics {
        for axis in ["iteration", "time", "oracle-calls"] {
          let file = "\(taskName)-\(quantity.replacingOccurrences(of: " ", with: "-"))-\(axis).svg"
          try OutputFile.write(
            plot(results, task: taskName, metric: quantity, xAxis: axis, taskMetrics: task.metrics),
            to: (directory as NSString).appendingPathComponent(file), console: console)
        }
      }
    }
    if let failed = results.first(where: { $0.runs.contains { $0.stopReason == .diverged } }) {
      let run = failed.runs.first { $0.stopReason == .diverged }!
      let at = run.trace.records.last?.iteration ?? 0
      throw CLIError.runFailed(
        "\(run.trace.algorithm) diverged on \(taskName) (a non-finite iterate at iteration \(at)); try a smaller --outer-step or --inner-step"
      )
    }
  }

  /// The runs of one algorithm, one per seed.
  struct RunResult {
    var name: String
    var runs: [SolveResult<Tensor, Tensor>]
  }

  /// The algorithm options from the command line, with the task's defaults and checks
  /// against the task's sizes.
  static func algorithmOptions(
    _ arguments: ParsedArguments, task: TaskInstance, seed: UInt64, algorithm: String
  ) throws(CLIError) -> AlgorithmOptions {
    var options = AlgorithmOptions(task: task, algorithm: algorithm, seed: seed)
    let innerStep =
      arguments.contains("inner-step") ? try arguments.double("inner-step", positive: true) : options.innerStep
    let outerStep =
      arguments.contains("outer-step") ? try arguments.double("outer-step", positive: true) : options.outerStep
    let innerIterations = arguments.contains("inner-steps") ? try arguments.int("inner-steps", range: 0...100_000) : nil
    if let innerIterations, innerIterations > 2000, ["itd-bio", "k-rmd"].contains(algorithm) {
      throw arguments.invalidValueError(
        "inner-steps",
        reason: "\(algorithm) keeps every inner step on its tape (memory grows with --inner-steps); use at most 2000")
    }
    // Algorithms derive steps from these (ratios, tenths, twentieths): all must stay
    // positive and finite in floating point.
    let ratio = innerStep / outerStep
    guard ratio.isFinite && ratio > 0 else {
      throw arguments.invalidValueError(
        arguments.contains("outer-step") ? "outer-step" : "inner-step",
        reason:
          "the ratio of the inner step \(innerStep) to the outer step \(outerStep) is not a positive finite number")
    }
    guard innerStep / 20 > 0 && outerStep / 20 > 0 else {
      throw arguments.invalidValueError(
        innerStep / 20 > 0 ? "outer-step" : "inner-step", reason: "the step is too small to divide (below about 1e-300)"
      )
    }
    if arguments.contains("batch-size") {
      let size = try arguments.int("batch-size", range: 1...)
      if let counts = task.sampleCounts {
        let limit = min(counts.inner, counts.outer)
        guard size <= limit else {
          throw arguments.invalidValueError(
            "batch-size", reason: "the batch size must be at most \(limit), the number of samples of the smaller level")
        }
      }
      options.batchSize = size
    }
    if arguments.contains("neumann-truncation"), try arguments.string("neumann-truncation") == "expected" {
      options.neumannTruncation = .expected
    }
    options.innerStep = innerStep
    options.outerStep = outerStep
    options.innerIterations = innerIterations
    return options
  }

  /// `--header` (true), `--no-header` (false) or neither (nil: detect).
  static func headerChoice(_ arguments: ParsedArguments) throws(CLIError) -> Bool? {
    if arguments.flag("header") && arguments.flag("no-header") {
      throw arguments.validationError("--header and --no-header contradict each other")
    }
    return arguments.flag("header") ? true : arguments.flag("no-header") ? false : nil
  }

  /// Checks every output before the run: each path's folder exists and is writable, no
  /// output overwrites the input data, no two outputs share a path, and at most one
  /// output goes to standard output.
  ///
  /// - Returns: whether one output is standard output (`-`).
  static func checkOutputs(
    _ arguments: ParsedArguments, dataPath: String?
  ) throws(CLIError) -> Bool {
    var seen: [String: String] = [:]  // canonical path → option
    var standardOutput: [String] = []
    for option in ["csv", "json", "plot"] where arguments.contains(option) {
      let path = try arguments.path(option)
      if path == "-" {
        standardOutput.append("--\(option)")
        continue
      }
      let canonical = OutputFile.canonical(path)
      if let dataPath, canonical == OutputFile.canonical(dataPath) {
        throw arguments.validationError("--\(option) '\(path)' is the --data file; writing it would destroy the input")
      }
      if let other = seen[canonical] {
        throw arguments.validationError(
          "--\(other) and --\(option) both write '\(path)'; give each output its own path")
      }
      seen[canonical] = option
      try OutputFile.checkWritable(path)
    }
    if standardOutput.count > 1 {
      throw arguments.validationError(
        "\(standardOutput.joined(separator: " and ")) both write to standard output ('-'); only one output can")
    }
    if arguments.contains("plot-dir") {
      let directory = try arguments.path("plot-dir")
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
        if !isDirectory.boolValue {
          throw CLIError.cannotCreate(path: directory, reason: "it is a file, not a directory")
        }
        if !FileManager.default.isWritableFile(atPath: directory) {
          throw CLIError.cannotCreate(path: directory, reason: "the directory is not writable")
        }
      } else {
        try OutputFile.checkWritable(directory)
      }
    }
    return !standardOutput.isEmpty
  }

  /// One row per algorithm: the last record's values, the median over seeds when several.
  static func table(task: TaskInstance, taskName: String, results: [RunResult]) -> TextTable {
    var headers = ["algorithm", "iterations", "time (s)", "oracle calls", "F(x)", "‖∇F(x)‖"]
    headers += task.metrics
    headers.append("stopped by")
    let seeds = results.first?.runs.count ?? 1
    let title =
      "\(taskName): \(results.count) algorithm\(results.count == 1 ? "" : "s")"
      + (seeds > 1 ? ", median over \(seeds) seeds" : "")
    var table = TextTable(title: title, headers: headers)
    for result in results {
      let lasts = result.runs.map { $0.trace.records.last! }
      let median = SeedStatistics.median
      var row = [
        result.name, "\(Int(median(lasts.map { Double($0.iteration) })!))",
        TextTable.format(median(lasts.map(\.time))!, significantDigits: 3),
        "\(Int(median(lasts.map { Double($0.counts.total) })!))",
        median(lasts.map(\.outerValue)).map { TextTable.format($0) } ?? "–",
        (median(lasts.map(\.hypergradientNorm)).map { TextTable.format($0, significantDigits: 3) } ?? "–")
          + (lasts.contains { $0.unreliable != nil } ? " *" : ""),
      ]
      row += task.metrics.map { metric in median(lasts.map { $0.metrics[metric] }).map { TextTable.format($0) } ?? "–" }
      let reasons = Set(result.runs.map(\.stopReason.rawValue)).sorted()
      row.append(reasons.joined(separator: ", ") + (lasts.contains { $0.unreliable != nil } ? " (unreliable *)" : ""))
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
      return try JSONWriter.encode(traces) + "\n"
    } catch {
      throw CLIError.runFailed("could not encode the traces as JSON: \(error)")
    }
  }

  /// Convergence curves, one per algorithm, drawn by `PlotCommand.chart` (the median and
  /// 20–80 % band over seeds).
  static func plot(_ results: [RunResult], task: String, metric: String?, xAxis: String, taskMetrics: [String])
    -> String
  {
    PlotCommand.chart(
      results.map { ($0.name, $0.runs.map(\.trace)) }, title: task, metric: metric, xAxis: xAxis,
      taskMetrics: taskMetrics)
  }
}
