import BilevelAD
import Foundation

/// `bilevel-cli plot`: convergence curves from traces that `run --json` wrote, so that runs
/// made separately (other algorithms, another day, a long run in the background) share one
/// figure. The one place where traces become curves: `run --plot` draws through it too.
enum PlotCommand {
  /// Reads the trace files, groups the traces by algorithm (a run with `--seeds n` labels
  /// its traces `name (seed k)`; they form one group), prints the last record's median per
  /// group and writes the SVG.
  static func run(_ arguments: ParsedArguments, console: Console) throws(CLIError) {
    let files = try arguments.list("traces")
    let output = try arguments.path("output")
    try OutputFile.checkWritable(output)
    var groups: [(name: String, traces: [Trace])] = []
    for file in files {
      for trace in try readTraces(file) {
        let name = algorithmName(trace.algorithm)
        if let index = groups.firstIndex(where: { $0.name == name }) {
          groups[index].traces.append(trace)
        } else {
          groups.append((name, [trace]))
        }
      }
    }
    if groups.isEmpty {
      throw arguments.validationError("the trace files hold no traces: \(files.joined(separator: ", "))")
    }
    let recorded = recordedQuantities(groups.flatMap(\.traces))
    let metric = try arguments.contains("metric") ? arguments.string("metric") : nil
    if let metric, !recorded.contains(metric) {
      throw arguments.invalidValueError(
        "metric", reason: "the traces record \(recorded.map { "'\($0)'" }.joined(separator: ", "))")
    }
    let xAxis = try arguments.choice("x", from: ["iteration", "time", "oracle-calls"])
    let title = try arguments.string("title")
    let svg = chart(groups, title: title, metric: metric, xAxis: xAxis, taskMetrics: recorded.filter(isTaskMetric))

    let quantity = metric ?? defaultQuantity(groups.flatMap(\.traces), taskMetrics: recorded.filter(isTaskMetric))
    var table = TextTable(
      title: "\(title): \(quantity) at the last record", headers: ["algorithm", "runs", "iteration", quantity])
    for group in groups {
      let lasts = group.traces.compactMap(\.records.last)
      table.append([
        group.name, "\(group.traces.count)",
        SeedStatistics.median(lasts.map { Double($0.iteration) }).map { "\(Int($0))" } ?? "–",
        SeedStatistics.median(lasts.map { value(of: quantity, in: $0) }).map { TextTable.format($0) } ?? "–",
      ])
    }
    console.output(table.rendered() + "\n")
    try OutputFile.write(svg, to: output, console: console)
  }

  /// The algorithm's name without the `run` command's ` (seed k)` suffix.
  static func algorithmName(_ label: String) -> String {
    guard label.hasSuffix(")"), let open = label.range(of: " (seed ", options: .backwards) else { return label }
    let digits = label[open.upperBound..<label.index(before: label.endIndex)]
    return !digits.isEmpty && digits.allSatisfy(\.isNumber) ? String(label[..<open.lowerBound]) : label
  }

  /// The traces in one file written by `run --json`.
  static func readTraces(_ file: String) throws(CLIError) -> [Trace] {
    let path = (file as NSString).expandingTildeInPath
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .cannotOpen(
        path: file,
        reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "No such file or directory")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw .invalidData(path: file, reason: "not UTF-8 text")
    }
    do {
      return try JSONWriter.decode([Trace].self, from: text)
    } catch {
      throw .invalidData(path: file, reason: "not a trace file written by 'bilevel-cli run --json' (\(error))")
    }
  }

  /// "hypergradient-norm" and "outer-value" where some record has them, then every task
  /// metric some record has, in order of first appearance.
  static func recordedQuantities(_ traces: [Trace]) -> [String] {
    let records = traces.flatMap(\.records)
    var names: [String] = []
    if records.contains(where: { $0.hypergradientNorm != nil }) { names.append("hypergradient-norm") }
    if records.contains(where: { $0.outerValue != nil }) { names.append("outer-value") }
    for record in records {
      for key in record.metrics.keys.sorted() where !names.contains(key) { names.append(key) }
    }
    return names
  }

  static func isTaskMetric(_ name: String) -> Bool { name != "hypergradient-norm" && name != "outer-value" }

  /// The hypergradient norm where recorded, else the first task metric, else F(x).
  static func defaultQuantity(_ traces: [Trace], taskMetrics: [String]) -> String {
    let hasNorm = traces.contains { $0.records.contains { $0.hypergradientNorm != nil } }
    return hasNorm ? "hypergradient-norm" : (taskMetrics.first ?? "outer-value")
  }

  static func value(of quantity: String, in record: TraceRecord) -> Double? {
    switch quantity {
    case "hypergradient-norm": return record.hypergradientNorm
    case "outer-value": return record.outerValue
    default: return record.metrics[quantity]
    }
  }

  /// Convergence curves, one per group: the hypergradient norm (or `metric`: a task
  /// metric, "outer-value" or "hypergradient-norm") against iterations, time or oracle
  /// calls. With several traces in a group (seeds), each trace's curve is interpolated on
  /// a common grid and the plot shows the median with a band between the 20 % and 80 %
  /// quantiles, as the benchopt bilevel benchmark draws them. Norms use a log scale, and
  /// so does any positive quantity whose values span three decades or more.
  static func chart(
    _ groups: [(name: String, traces: [Trace])], title: String, metric: String?, xAxis: String, taskMetrics: [String]
  ) -> String {
    let quantity = metric ?? defaultQuantity(groups.flatMap(\.traces), taskMetrics: taskMetrics)
    let label: String
    switch quantity {
    case "hypergradient-norm": label = "‖∇F(x)‖"
    case "outer-value": label = "F(x)"
    default: label = quantity
    }
    func position(_ record: TraceRecord) -> Double {
      switch xAxis {
      case "time": return record.time
      case "oracle-calls": return Double(record.counts.total)
      default: return Double(record.iteration)
      }
    }
    // Norms on a log scale; any other quantity too when it is positive and spans three
    // decades or more (a loss falling from 10³ to 1 would otherwise be a flat line).
    let values = groups.flatMap { $0.traces.flatMap { $0.records.compactMap { value(of: quantity, in: $0) } } }
      .filter(\.isFinite)
    let spansDecades =
      !values.isEmpty && values.allSatisfy { $0 > 0 } && values.max()! >= 1000 * values.min()!
    let logarithmic = quantity == "hypergradient-norm" || spansDecades
    let banded = groups.contains { $0.traces.count > 1 }
    var svg = SVGPlot(
      title: "\(title): \(label)" + (banded ? " (median, 20–80 % band)" : ""),
      xLabel: xAxis == "oracle-calls" ? "oracle calls" : (xAxis == "time" ? "time (s)" : "iteration"),
      yLabel: label, xScale: xAxis == "iteration" ? .linear : .logarithmic, yScale: logarithmic ? .logarithmic : .linear
    )
    for group in groups {
      let curves = group.traces.map { trace in
        trace.records.compactMap { record in value(of: quantity, in: record).map { (position(record), $0) } }
      }.filter { !$0.isEmpty }
      guard !curves.isEmpty else { continue }
      if curves.count == 1 {
        svg.series.append(SVGPlot.Series(name: group.name, x: curves[0].map(\.0), y: curves[0].map(\.1)))
        continue
      }
      let band = SeedStatistics.band(of: curves, logarithmic: logarithmic)
      svg.series.append(
        SVGPlot.Series(name: group.name, x: band.grid, y: band.median, lower: band.lower, upper: band.upper))
    }
    return svg.rendered()
  }
}
