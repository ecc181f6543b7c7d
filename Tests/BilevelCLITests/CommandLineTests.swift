import BilevelAD
import Foundation
import Synchronization
import Testing

@testable import BilevelCLI

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A console that records what the tool writes.
final class RecordingConsole: Sendable {
  private let buffers = Mutex<(output: String, error: String)>(("", ""))
  var output: String { buffers.withLock { $0.output } }
  var error: String { buffers.withLock { $0.error } }
  var console: Console {
    Console(
      output: { text in self.buffers.withLock { $0.output += text } },
      error: { text in self.buffers.withLock { $0.error += text } },
      errorIsTerminal: false)
  }
}

/// Runs the tool and returns (status, standard output, standard error).
func runTool(_ arguments: [String]) -> (status: Int32, output: String, error: String) {
  let recorder = RecordingConsole()
  let status = BilevelCommandLine.run(arguments, console: recorder.console)
  return (status, recorder.output, recorder.error)
}

@Suite("bilevel-cli commands")
struct CommandLineTests {
  @Test("help, --help and -h print the same text to standard output")
  func help() {
    let a = runTool(["help", "run"])
    let b = runTool(["run", "--help"])
    let c = runTool(["run", "-h"])
    #expect(a.status == 0 && b.status == 0 && c.status == 0)
    #expect(a.output == b.output && b.output == c.output)
    #expect(a.output.hasPrefix("OVERVIEW: Run algorithms on a task and compare them in one table."))
    #expect(a.output.contains("USAGE: bilevel-cli run [<options>] <task>"))
    #expect(a.error.isEmpty)
    #expect(runTool(["--version"]).output == BilevelCommandLine.version + "\n")
  }

  @Test("an unknown option gets a suggestion, a usage line and exit status 64")
  func unknownOption() {
    let result = runTool(["run", "quadratic", "--itrations", "5"])
    #expect(result.status == 64)
    #expect(result.output.isEmpty)
    #expect(
      result.error == """
        Error: Unknown option '--itrations'. Did you mean '--iterations'?
        Usage: bilevel-cli run [<options>] <task>
          See 'bilevel-cli run --help' for more information.

        """)
  }

  @Test("an unknown command, a bad value, a missing value and a missing argument exit with 64")
  func usageErrors() {
    let command = runTool(["rn"])
    #expect(command.status == 64)
    #expect(command.error.hasPrefix("Error: Unknown command 'rn'. Did you mean 'run'?"))
    let value = runTool(["run", "quadratic", "--iterations", "-3"])
    #expect(value.status == 64)
    #expect(value.error.hasPrefix("Error: The value '-3' is invalid for '--iterations <n>'"))
    let missing = runTool(["run", "quadratic", "--data"])
    #expect(missing.status == 64)
    #expect(missing.error.hasPrefix("Error: Missing value for '--data <path>'"))
    let task = runTool(["run"])
    #expect(task.status == 64)
    #expect(task.error.hasPrefix("Error: Missing expected argument '<task>'"))
    let unknownTask = runTool(["run", "quadratc"])
    #expect(unknownTask.status == 64)
    #expect(unknownTask.error.contains("quadratc"))
    let algorithm = runTool(["run", "quadratic", "--algorithm", "sobaa"])
    #expect(algorithm.status == 64)
    #expect(algorithm.error.contains("sobaa"))
  }

  @Test("a batch larger than the data is refused with what is expected")
  func batchTooLarge() {
    let result = runTool(["run", "quadratic-sum", "--algorithm", "soba", "--batch-size", "5000", "--iterations", "1"])
    #expect(result.status == 64)
    #expect(result.error.hasPrefix("Error: The value '5000' is invalid for '--batch-size <n>'"))
    #expect(result.error.contains("at most 1024"))
  }

  @Test("--neumann-truncation expected makes MSTSA's oracle calls deterministic; a bad value is refused")
  func neumannTruncation() {
    // Expected truncation: N − 1 = 9 products at each of the two points after the first
    // step, so two seeds give the same count; the randomized depth differs between seeds.
    func calls(_ truncation: String, seed: String) -> String? {
      let url = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-neumann-\(UUID()).csv")
      defer { try? FileManager.default.removeItem(at: url) }
      let result = runTool([
        "run", "quadratic-sum", "--algorithm", "mstsa", "--iterations", "5", "--quiet", "--seed", seed,
        "--neumann-truncation", truncation, "--csv", url.path,
      ])
      guard result.status == 0, let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
      let lines = text.split(separator: "\n")
      guard let header = lines.first?.split(separator: ","), let column = header.firstIndex(of: "oracle_calls"),
        let last = lines.last?.split(separator: ",")
      else { return nil }
      return String(last[column])
    }
    let expectedA = calls("expected", seed: "1")
    let expectedB = calls("expected", seed: "2")
    #expect(expectedA != nil && expectedA == expectedB)
    let randomizedA = calls("randomized", seed: "1")
    let randomizedB = calls("randomized", seed: "2")
    #expect(randomizedA != nil && randomizedA != randomizedB)
    let bad = runTool(["run", "quadratic-sum", "--algorithm", "mstsa", "--neumann-truncation", "all"])
    #expect(bad.status == 64)
    #expect(bad.error.hasPrefix("Error: The value 'all' is invalid for '--neumann-truncation <kind>'"))
  }

  @Test("sbfw-pairwise reaches the coreset-simplex optimum within 1e-3; on an unconstrained task it is refused")
  func sbfwPairwise() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-sbfw-\(UUID()).csv")
    defer { try? FileManager.default.removeItem(at: url) }
    let run = runTool([
      "run", "coreset-simplex", "--algorithm", "sbfw-pairwise", "--iterations", "1000", "--evaluate-every", "1000",
      "--quiet", "--csv", url.path,
    ])
    #expect(run.status == 0, "\(run.error)")
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    let header = lines[0].split(separator: ",")
    let column = try #require(header.firstIndex(of: "hull_point_distance"))
    let distance = try #require(Double(lines.last!.split(separator: ",")[column]))
    #expect(distance < 1e-3, "hull point distance \(distance)")  // measured 2.8e-5
    let refused = runTool(["run", "quadratic", "--algorithm", "sbfw-pairwise", "--iterations", "1"])
    #expect(refused.status == 1)
    #expect(refused.error.contains("sbfw-pairwise") && refused.error.contains("coreset-simplex"))
  }

  @Test(
    "a data file that cannot be opened exits 66 and names the path; one that does not parse exits 65 with line and column"
  )
  func dataErrors() throws {
    let missing = runTool(["run", "hyperparam", "--data", "/nonexistent/file.csv", "--iterations", "1"])
    #expect(missing.status == 66)
    #expect(missing.error.contains("/nonexistent/file.csv"))
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-bad-\(UUID()).csv")
    try "1,2,0\n3,x,1\n".write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    let bad = runTool(["run", "hyperparam", "--data", url.path, "--iterations", "1"])
    #expect(bad.status == 65)
    #expect(bad.error.contains("line 2, column 2"))
    let single = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-single-\(UUID()).csv")
    try "a,b,label\n1,2,1\n3,4,1\n5,6,1\n".write(to: single, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: single) }
    let oneClass = runTool(["run", "hypercleaning", "--data", single.path, "--iterations", "1"])
    #expect(oneClass.status == 65)
    #expect(oneClass.error.contains("column 3: every label is 1; a classification task needs at least two classes"))
    let fractional = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-label-\(UUID()).csv")
    try "1,2,0\n3,4,0.5\n".write(to: fractional, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: fractional) }
    let label = runTool(["run", "hypercleaning", "--data", fractional.path, "--iterations", "1"])
    #expect(label.status == 65)
    #expect(label.error.contains("line 2, column 3"))
  }

  @Test("a diverging run exits 1 with the reason")
  func divergence() {
    let result = runTool([
      "run", "quadratic", "--algorithm", "aid-bio", "--outer-step", "1000", "--inner-step", "1", "--iterations", "200",
    ])
    #expect(result.status == 1)
    #expect(result.error.contains("diverged"))
  }

  @Test(
    "every task runs with every algorithm it supports, on a tiny budget",
    arguments: ["quadratic", "pl-game", "coreset", "matrix-sensing", "coreset-simplex"])
  func smoke(task: String) {
    // sbfw needs a bounded set on x and sbfw-pairwise the simplex: only coreset-simplex has them.
    let names = AlgorithmCatalog.names.filter { !$0.hasPrefix("sbfw") || task == "coreset-simplex" }
    let result = runTool([
      "run", task, "--algorithm", names.joined(separator: ","), "--iterations", "2", "--evaluate-every", "2",
    ])
    #expect(result.status == 0, "\(result.error)")
    for name in names { #expect(result.output.contains(name)) }
  }

  @Test("bilevel-cli run is TaskInstance.run: the library reproduces the command's trace")
  func libraryRunsWhatTheCommandRuns() throws {
    let result = runTool([
      "run", "pl-game", "--algorithm", "mrbo", "--iterations", "6", "--evaluate-every", "2", "--seed", "4",
      "--json", "-",
    ])
    #expect(result.status == 0, "\(result.error)")
    let decoded = try JSONDecoder().decode([Trace].self, from: Data(result.output.utf8))
    let task = try TaskCatalog.instance(of: "pl-game", options: TaskOptions(seed: 4))
    let library = try task.run("mrbo", seed: 4, stopping: StoppingRule(maxIterations: 6), evaluateEvery: 2)
    #expect(decoded.first?.records.map(\.hypergradientNorm) == library.trace.records.map(\.hypergradientNorm))
    #expect(decoded.first?.records.map(\.counts) == library.trace.records.map(\.counts))
  }

  @Test("--dimension sizes the PL game (rank d − 2) and matrix sensing as the seed's figures do")
  func dimension() throws {
    let game = runTool(["run", "pl-game", "--dimension", "100", "--iterations", "2", "--json", "-"])
    #expect(game.status == 0, "\(game.error)")
    let task = try TaskCatalog.instance(of: "pl-game", options: TaskOptions(dimension: 100))
    #expect(task.x0.shape == [100] && task.y0.shape == [100])
    let decoded = try JSONDecoder().decode([Trace].self, from: Data(game.output.utf8))
    #expect(decoded.first?.records.first?.hypergradientNorm == task.evaluator(task.x0, task.y0).hypergradientNorm)
    let sensing = try TaskCatalog.instance(of: "matrix-sensing", options: TaskOptions(dimension: 12))
    #expect(sensing.x0.shape == [12, 2] && sensing.y0.shape == [12])
    let refused = runTool(["run", "pl-game", "--dimension", "2", "--iterations", "1"])
    #expect(refused.status == 64)
  }

  @Test("hostile values found by review get errors, not traps")
  func reviewFindings() throws {
    let underflow = runTool([
      "run", "quadratic", "--algorithm", "soba", "--inner-step", "1e-300", "--outer-step", "1e100", "--iterations", "1",
    ])
    #expect(underflow.status == 64)
    #expect(underflow.error.contains("is not a positive finite number"))
    let tiny = runTool(["run", "quadratic", "--algorithm", "v-pbgd", "--inner-step", "5e-324", "--iterations", "1"])
    #expect(tiny.status == 64)
    let alset = runTool(["run", "quadratic", "--algorithm", "alset", "--inner-steps", "0", "--iterations", "1"])
    #expect(alset.status == 1)
    #expect(alset.error.contains("alset needs at least one inner iteration per outer iteration, got 0"))
    let metric = runTool(["run", "quadratic", "--iterations", "1", "--plot", "-", "--plot-metric", "bogus"])
    #expect(metric.status == 64)
    #expect(metric.error.contains("'hypergradient-norm', 'outer-value'"))
    let steps = runTool(["hypergradient", "quadratic", "--method", "unrolled-reverse", "--steps", "5000"])
    #expect(steps.status == 64)
    #expect(steps.error.contains("use --method checkpointed"))

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-review-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let target = directory.appendingPathComponent("target.csv")
    try "old".write(to: target, atomically: true, encoding: .utf8)
    let link = directory.appendingPathComponent("link.csv")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
    #expect(runTool(["run", "quadratic", "--iterations", "2", "--csv", link.path]).status == 0)
    #expect(try String(contentsOf: target, encoding: .utf8).hasPrefix("algorithm,iteration"))
    #expect(
      (try FileManager.default.attributesOfItem(atPath: link.path)[.type] as? FileAttributeType) == .typeSymbolicLink)

    let sparse = directory.appendingPathComponent("sparse.csv")
    try "1,2,0\n3,4,999\n5,6,0\n7,8,999\n".write(to: sparse, atomically: true, encoding: .utf8)
    let labels = runTool(["run", "hypercleaning", "--data", sparse.path, "--iterations", "1"])
    #expect(labels.status == 65)
  }

  @Test("an algorithm that cannot run on a task is refused before anything runs")
  func refusals() {
    let sbfw = runTool(["run", "quadratic", "--algorithm", "aid-bio,sbfw", "--iterations", "1"])
    #expect(sbfw.status == 1)
    #expect(sbfw.output.isEmpty)
    #expect(sbfw.error == "Error: sbfw needs a bounded constraint set on x; run it on coreset-simplex\n")
    let mgbio = runTool(["run", "hypercleaning", "--algorithm", "mgbio", "--iterations", "1"])
    #expect(mgbio.status == 1)
    #expect(mgbio.error.contains("at most 500 inner variables, this task has 650"))
  }

  @Test(
    "the learning tasks run end to end on a tiny budget", arguments: ["hypercleaning", "hyperparam", "quadratic-sum"])
  func learningSmoke(task: String) {
    let result = runTool([
      "run", task, "--algorithm", "soba,saba,aid-bio", "--iterations", "2", "--evaluate-every", "2",
    ])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("saba"))
  }

  @Test(
    "hypercleaning-mlp runs with a network of --hidden units and shows test accuracy; --hidden elsewhere is refused")
  func hyperCleaningNetwork() {
    let result = runTool([
      "run", "hypercleaning-mlp", "--hidden", "3", "--algorithm", "saba,aid-bio", "--iterations", "2",
      "--evaluate-every", "2",
    ])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("test accuracy") && result.output.contains("network trained on clean labels"))
    let misplaced = runTool(["run", "hypercleaning", "--hidden", "3", "--iterations", "1"])
    #expect(misplaced.status == 64)
    #expect(
      misplaced.error.contains("--hidden applies to the hypercleaning-mlp task, not 'hypercleaning'"),
      "\(misplaced.error)")
    let zero = runTool(["run", "hypercleaning-mlp", "--hidden", "0", "--iterations", "1"])
    #expect(zero.status == 64, "\(zero.error)")
  }

  @Test("CSV and JSON traces read back to the same numbers; the SVG is well-formed with one path per algorithm")
  func outputs() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let csv = directory.appendingPathComponent("t.csv").path
    let json = directory.appendingPathComponent("t.json").path
    let svg = directory.appendingPathComponent("t.svg").path
    let result = runTool([
      "run", "quadratic", "--algorithm", "aid-bio,hjfbio", "--iterations", "6", "--evaluate-every", "2",
      "--csv", csv, "--json", json, "--plot", svg, "--plot-x", "oracle-calls",
    ])
    #expect(result.status == 0, "\(result.error)")
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    struct Record: Decodable {
      var iteration: Int
      var hypergradientNorm: Double?
    }
    struct TraceFile: Decodable {
      var algorithm: String
      var records: [Record]
    }
    let traces = try decoder.decode([TraceFile].self, from: Data(contentsOf: URL(fileURLWithPath: json)))
    #expect(traces.map(\.algorithm) == ["aid-bio", "hjfbio"])
    let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    let header = lines[0].split(separator: ",").map(String.init)
    let normColumn = header.firstIndex(of: "hypergradient_norm")!
    let csvNorms = lines.dropFirst().map {
      Double($0.split(separator: ",", omittingEmptySubsequences: false)[normColumn])!
    }
    #expect(csvNorms == traces.flatMap { $0.records.map { $0.hypergradientNorm! } })
    let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: svg)))
    final class Counter: NSObject, XMLParserDelegate {
      var paths = 0
      func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
      ) {
        if name == "path" { paths += 1 }
      }
    }
    let counter = Counter()
    parser.delegate = counter
    #expect(parser.parse())
    #expect(counter.paths == 2)
  }

  @Test("several seeds give a median table and one band per algorithm in the plot")
  func seeds() throws {
    let svg = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-seeds-\(UUID()).svg").path
    defer { try? FileManager.default.removeItem(atPath: svg) }
    let result = runTool([
      "run", "quadratic-sum", "--algorithm", "soba,saba", "--iterations", "20", "--evaluate-every", "5", "--seeds", "3",
      "--plot", svg, "--plot-x", "time",
    ])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("median over 3 seeds"))
    let text = try String(contentsOfFile: svg, encoding: .utf8)
    #expect(text.components(separatedBy: "<polygon").count - 1 == 2)
    #expect(text.components(separatedBy: "<path").count - 1 == 2)
  }

  @Test("with --seeds each seed runs on its own task: seed k of a run is the run with --seed k")
  func seedsDrawTheirTasks() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-tasks-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    func traces(_ arguments: [String]) throws -> [Trace] {
      let path = directory.appendingPathComponent("\(UUID()).json").path
      let result = runTool(arguments + ["--json", path, "--quiet"])
      #expect(result.status == 0, "\(result.error)")
      return try JSONWriter.decode([Trace].self, from: String(contentsOfFile: path, encoding: .utf8))
    }
    // HJFBiO is deterministic: any difference between seeds comes from the task's draw.
    let common = ["run", "pl-game", "--algorithm", "hjfbio", "--iterations", "4", "--evaluate-every", "2"]
    let both = try traces(common + ["--seeds", "2"])
    let second = try traces(common + ["--seed", "1"])
    #expect(both.map(\.algorithm) == ["hjfbio (seed 0)", "hjfbio (seed 1)"])
    #expect(both[0].records[0].outerValue != both[1].records[0].outerValue)
    #expect(both[1].records.map(\.outerValue) == second[0].records.map(\.outerValue))
    #expect(both[1].records.map(\.hypergradientNorm) == second[0].records.map(\.hypergradientNorm))
    // The coreset toy's seeds 0–2 are the official code's three starts.
    // (the first record is F(x₀), the same for every start of the lower variable.)
    let coreset = try traces([
      "run", "coreset", "--algorithm", "bome", "--iterations", "5", "--evaluate-every", "5", "--seeds", "3",
    ])
    let starts = Set(coreset.map { $0.records.last!.outerValue })
    #expect(starts.count == 3)
  }

  @Test(
    "plot draws runs made separately as one figure, identical to run --plot on the same traces; bad files and metrics are refused"
  )
  func plotFromTraceFiles() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bilevel-cli-plot-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
    // One run of two algorithms over two seeds, with its own plot …
    let together = runTool([
      "run", "quadratic", "--algorithm", "aid-bio,bome", "--iterations", "8", "--evaluate-every", "2", "--seeds", "2",
      "--json", file("both.json"), "--plot", file("run.svg"),
    ])
    #expect(together.status == 0, "\(together.error)")
    // … and the same algorithms run separately.
    for name in ["aid-bio", "bome"] {
      let alone = runTool([
        "run", "quadratic", "--algorithm", name, "--iterations", "8", "--evaluate-every", "2", "--seeds", "2",
        "--json", file("\(name).json"),
      ])
      #expect(alone.status == 0, "\(alone.error)")
    }
    let merged = runTool([
      "plot", file("both.json"), "--output", file("merged-one-file.svg"), "--title", "quadratic",
    ])
    #expect(merged.status == 0, "\(merged.error)")
    #expect(merged.output.contains("aid-bio       2"), "\(merged.output)")
    // Timings differ between runs, iterations and norms do not: the figure against
    // iterations is the same, byte for byte.
    let separate = runTool([
      "plot", file("aid-bio.json"), file("bome.json"), "--output", file("merged.svg"), "--title", "quadratic",
    ])
    #expect(separate.status == 0, "\(separate.error)")
    let reference = try String(contentsOfFile: file("run.svg"), encoding: .utf8)
    #expect(try String(contentsOfFile: file("merged-one-file.svg"), encoding: .utf8) == reference)
    #expect(try String(contentsOfFile: file("merged.svg"), encoding: .utf8) == reference)
    #expect(reference.components(separatedBy: "<polygon").count - 1 == 2)

    // F(x) here stays within a decade or two: a linear axis; a positive quantity spanning
    // three decades gets a log axis, as norms always do.
    func trace(_ values: [Double]) -> Trace {
      var trace = Trace(algorithm: "a")
      for (k, v) in values.enumerated() {
        trace.records.append(
          TraceRecord(
            iteration: k, time: Double(k), counts: OracleCounts(), outerValue: v, hypergradientNorm: nil,
            directionNorm: nil, metrics: [:], unreliable: nil))
      }
      return trace
    }
    let wide = PlotCommand.chart(
      [("a", [trace([4000, 30, 2])])], title: "t", metric: "outer-value", xAxis: "iteration", taskMetrics: [])
    let narrow = PlotCommand.chart(
      [("a", [trace([40, 30, 2])])], title: "t", metric: "outer-value", xAxis: "iteration", taskMetrics: [])
    #expect(wide.contains(">100<") && wide.contains(">1000<") && !wide.contains(">2000<"), "\(wide)")
    #expect(narrow.contains(">30<"), "\(narrow)")
    #expect(PlotCommand.algorithmName("soba (seed 12)") == "soba")
    #expect(PlotCommand.algorithmName("soba (seed x)") == "soba (seed x)")
    #expect(PlotCommand.algorithmName("f2sa") == "f2sa")

    let metric = runTool(["plot", file("both.json"), "--output", file("x.svg"), "--metric", "test accuracy"])
    #expect(metric.status == 64)
    #expect(metric.error.contains("the traces record 'hypergradient-norm', 'outer-value'"))
    let missing = runTool(["plot", file("absent.json"), "--output", file("x.svg")])
    #expect(missing.status == 66)
    #expect(missing.error.contains("absent.json"))
    try Data(#"{"algorithm": "x"}"#.utf8).write(to: URL(fileURLWithPath: file("bad.json")))
    let bad = runTool(["plot", file("bad.json"), "--output", file("x.svg")])
    #expect(bad.status == 65)
    #expect(bad.error.contains("not a trace file written by 'bilevel-cli run --json'"))
    try Data("[]".utf8).write(to: URL(fileURLWithPath: file("empty.json")))
    let empty = runTool(["plot", file("empty.json"), "--output", file("x.svg")])
    #expect(empty.status == 64)
    #expect(empty.error.contains("hold no traces"))
  }

  @Test("hypergradient prints the estimate and its error against the closed form")
  func hypergradient() {
    let result = runTool(["hypergradient", "quadratic", "--method", "implicit-cg"])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("relative error vs the closed form"))
    let woodbury = runTool(["hypergradient", "hyperparam", "--method", "implicit-woodbury"])
    #expect(woodbury.status == 0, "\(woodbury.error)")
    #expect(woodbury.output.contains("relative error vs implicit dense"))
    let noStructure = runTool(["hypergradient", "quadratic", "--method", "implicit-woodbury"])
    #expect(noStructure.status == 64)
    #expect(noStructure.error.contains("available for: hyperparam"))
    let forward = runTool(["hypergradient", "hypercleaning", "--method", "unrolled-forward"])
    #expect(forward.status == 64)
    #expect(forward.error.contains("use unrolled-reverse"))
  }

  @Test("hvp checks the modes against the dense Hessian")
  func hvp() {
    let result = runTool(["hvp", "--function", "rosenbrock", "--size", "12", "--repeats", "2"])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.contains("All modes agree"))
    let huge = runTool(["hvp", "--function", "quadratic", "--size", "100000"])
    #expect(huge.status == 64)
    #expect(huge.error.contains("quadratic takes at most 3000"))
  }

  @Test("bench in a debug build says that timings need a release build")
  func bench() {
    #if DEBUG
      let result = runTool(["bench"])
      #expect(result.status == 0)
      #expect(result.error.contains("release"))
    #endif
    let negative = runTool(["bench", "--minimum-time", "-5"])
    #expect(negative.status == 64)
    #expect(
      negative.error.hasPrefix(
        "Error: The value '-5' is invalid for '--minimum-time <ms>': expected a number from 0 to 10000"))
  }

  @Test("list names every task, algorithm and method")
  func list() {
    let result = runTool(["list"])
    for name in TaskRegistry.names + AlgorithmCatalog.names + HypergradientCommand.methods {
      #expect(result.output.contains(name))
    }
  }
}
