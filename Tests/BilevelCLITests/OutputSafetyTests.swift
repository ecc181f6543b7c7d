import Foundation
import Testing

@testable import BilevelCLI

// Probes from the reliability review: output that cannot be written, endless input,
// outputs that would destroy the input or each other, and checks that come after the run.

/// The built `bilevel-cli` executable, next to the test bundle.
private let tool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  .appendingPathComponent("bilevel-cli").path

/// Runs the real executable with standard output sent to `output` (a path), with a time
/// limit; returns the status, standard error and the seconds it took.
private func runProcess(_ arguments: [String], output: String? = nil, timeout: Double = 20) throws -> (
  status: Int32, error: String, seconds: Double
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: tool)
  process.arguments = arguments
  if let output {
    process.standardOutput = FileHandle(forWritingAtPath: output)
  } else {
    process.standardOutput = FileHandle.nullDevice
  }
  let errorPipe = Pipe()
  process.standardError = errorPipe
  let start = Date()
  try process.run()
  let deadline = Date().addingTimeInterval(timeout)
  while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
  if process.isRunning { process.terminate() }
  process.waitUntilExit()
  let error = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  return (process.terminationStatus, error, Date().timeIntervalSince(start))
}

@Suite("Outputs and inputs that could lose data")
struct OutputSafetyTests {
  @Test("a full disk on standard output is exit 74 with one line, not a crash")
  func fullStandardOutput() throws {
    try #require(FileManager.default.isExecutableFile(atPath: tool), "no executable at \(tool)")
    let result = try runProcess(["list"], output: "/dev/full")
    #expect(result.status == 74, "\(result.error)")
    #expect(result.error == "Error: Cannot write to standard output: No space left on device\n", "\(result.error)")
  }

  @Test("a closed pipe with SIGPIPE ignored ends quietly with 141, as SIGPIPE would")
  func closedPipe() throws {
    try #require(FileManager.default.isExecutableFile(atPath: tool))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      "-c", #"( trap "" PIPE; sleep 0.3; exec "$0" list ) 2>"$1" | true; echo "${PIPESTATUS[0]}""#, tool,
      FileManager.default.temporaryDirectory.appendingPathComponent("pipe-\(UUID())").path,
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    process.waitUntilExit()
    let status = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "141")
    let errorPath = process.arguments![3]
    #expect((try? String(contentsOfFile: errorPath, encoding: .utf8)) == "", "nothing on standard error")
    try? FileManager.default.removeItem(atPath: errorPath)
  }

  @Test("an endless --data stream is refused with exit 65 and a message, within seconds")
  func endlessInput() throws {
    try #require(FileManager.default.isExecutableFile(atPath: tool))
    let result = try runProcess(["run", "hyperparam", "--data", "/dev/zero", "--data-limit", "8", "--iterations", "1"])
    #expect(result.status == 65, "\(result.error)")
    #expect(result.error.contains("holds more than 8 MiB"), "\(result.error)")
    #expect(result.seconds < 15)
  }

  @Test("a file of NUL bytes is reported as not text")
  func nulBytes() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nul-\(UUID()).csv").path
    try Data(repeating: 0, count: 1000).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = runTool(["run", "hyperparam", "--data", path, "--iterations", "1"])
    #expect(result.status == 65)
    #expect(result.error.contains("the file is not text: it holds a NUL byte at byte 0"), "\(result.error)")
  }

  @Test("outputs that would overwrite the data, each other, or share standard output are refused before any work")
  func conflictingOutputs() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outputs-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let data = directory.appendingPathComponent("data.csv").path
    try Data("1,2,0\n2,1,1\n3,3,0\n4,1,1\n5,2,0\n6,1,1\n7,2,0\n8,9,1\n9,2,0\n".utf8).write(
      to: URL(fileURLWithPath: data))
    let before = try String(contentsOfFile: data, encoding: .utf8)
    let overwrite = runTool(["run", "hyperparam", "--data", data, "--csv", data, "--iterations", "1"])
    #expect(overwrite.status == 64)
    #expect(overwrite.error.contains("--csv '\(data)' is the --data file"), "\(overwrite.error)")
    #expect(try String(contentsOfFile: data, encoding: .utf8) == before)
    let same = directory.appendingPathComponent("out").path
    let twice = runTool(["run", "quadratic", "--csv", same, "--json", same, "--iterations", "1"])
    #expect(twice.status == 64)
    #expect(twice.error.contains("--csv and --json both write"), "\(twice.error)")
    let both = runTool(["run", "quadratic", "--csv", "-", "--json", "-", "--iterations", "1"])
    #expect(both.status == 64)
    #expect(both.error.contains("--csv and --json both write to standard output"), "\(both.error)")
  }

  @Test("a bad output path or plot metric fails before the run (exit 73 / 64) and writes nothing")
  func earlyOutputChecks() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("early-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let missing = runTool(["run", "quadratic", "--json", "/nonexistent-folder/t.json", "--iterations", "1"])
    #expect(missing.status == 73, "\(missing.error)")
    #expect(
      missing.error.contains(
        "Cannot write '/nonexistent-folder/t.json': the directory '/nonexistent-folder' does not exist"))
    let csv = directory.appendingPathComponent("t.csv").path
    let bogus = runTool([
      "run", "quadratic", "--csv", csv, "--plot", directory.appendingPathComponent("p.svg").path,
      "--plot-metric", "bogus", "--iterations", "1",
    ])
    #expect(bogus.status == 64, "\(bogus.error)")
    #expect(!FileManager.default.fileExists(atPath: csv), "the CSV must not be written when a later check fails")
  }

  @Test("outputs are written atomically: the file appears whole and no temporary file is left")
  func atomicOutputs() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let json = directory.appendingPathComponent("t.json").path
    try Data("old".utf8).write(to: URL(fileURLWithPath: json))
    let result = runTool(["run", "quadratic", "--json", json, "--iterations", "2"])
    #expect(result.status == 0, "\(result.error)")
    #expect(try String(contentsOfFile: json, encoding: .utf8).hasPrefix("["))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["t.json"])
  }

  @Test("with '-' for an output, standard output carries only that output")
  func standardOutputOnlyCarriesTheOutput() throws {
    let result = runTool(["run", "quadratic", "--csv", "-", "--iterations", "2", "--evaluate-every", "1"])
    #expect(result.status == 0, "\(result.error)")
    #expect(result.output.hasPrefix("algorithm,iteration,"), "\(result.output.prefix(200))")
    #expect(!result.output.contains("stopped by"))
    #expect(result.error.contains("stopped by"), "the table goes to standard error")
  }
}

@Suite("Bounded work")
struct BoundedWorkTests {
  @Test("--time-limit bounds the whole command, evaluations included; the last record is marked")
  func wallClockLimit() {
    let start = Date()
    let result = runTool([
      "run", "quadratic", "--algorithm", "aid-bio", "--time-limit", "1", "--iterations", "100000000",
      "--evaluate-every", "1", "--json", "-",
    ])
    let seconds = Date().timeIntervalSince(start)
    #expect(result.status == 0, "\(result.error)")
    #expect(seconds < 3, "took \(seconds) s")
    #expect(result.error.contains("time limit"), "\(result.error)")
  }

  @Test("--time-limit also bounds one outer step's inner loop")
  func innerLoopDeadline() {
    let start = Date()
    let result = runTool([
      "run", "quadratic", "--algorithm", "aid-bio,bome", "--time-limit", "1", "--inner-steps", "100000",
      "--iterations", "5",
    ])
    let seconds = Date().timeIntervalSince(start)
    #expect(result.status == 0, "\(result.error)")
    #expect(seconds < 3, "took \(seconds) s")
  }

  @Test("run caps --inner-steps as hypergradient caps --steps")
  func innerStepsCap() {
    let huge = runTool(["run", "quadratic", "--algorithm", "itd-bio", "--inner-steps", "1000000", "--iterations", "1"])
    #expect(huge.status == 64)
    #expect(huge.error.contains("The value '1000000' is invalid for '--inner-steps <n>'"), "\(huge.error)")
    let tape = runTool(["run", "quadratic", "--algorithm", "itd-bio", "--inner-steps", "5000", "--iterations", "1"])
    #expect(tape.status == 64)
    #expect(tape.error.contains("itd-bio keeps every inner step on its tape"), "\(tape.error)")
  }
}

@Suite("Messages that name the real problem")
struct MessageTests {
  /// A temporary CSV file with `text`, removed after `body`.
  private func withFile(_ text: String, _ body: (String) throws -> Void) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("messages-\(UUID()).csv").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    try body(path)
  }

  /// Rows `x, x², label` for x = 1...n with the given label of each row.
  private func rows(_ labels: [Int]) -> String {
    labels.enumerated().map { "\(Double($0.offset + 1)),\(Double(($0.offset + 1) * ($0.offset + 1))),\($0.element)" }
      .joined(separator: "\n") + "\n"
  }

  @Test("a first row of numeric names is data unless --header says otherwise, and the message says so")
  func numericHeader() throws {
    let text = "0,1,label\n" + (1...20).map { "\($0),\($0 * 2),\($0 % 2)" }.joined(separator: "\n") + "\n"
    try withFile(text) { path in
      let refused = runTool(["run", "hyperparam", "--data", path, "--iterations", "1"])
      #expect(refused.status == 65)
      #expect(
        refused.error.contains("line 1, column 3: non-numeric cell 'label' (if line 1 is a header, pass --header)"),
        "\(refused.error)")
      let declared = runTool(["run", "hyperparam", "--data", path, "--header", "--iterations", "1"])
      #expect(declared.status == 0, "\(declared.error)")
    }
  }

  @Test("a label gap names the line of the largest label")
  func labelGap() throws {
    var labels = Array(repeating: 0, count: 60)
    for i in stride(from: 1, to: 60, by: 2) { labels[i] = 1 }
    labels[50] = 20
    try withFile(rows(labels)) { path in
      let result = runTool(["run", "hypercleaning", "--data", path, "--iterations", "1"])
      #expect(result.status == 65)
      #expect(
        result.error.contains(
          "line 51, column 3: labels must be the integers 0..<k without gaps; the label 20 makes k = 21, but only 3 distinct labels appear"
        ), "\(result.error)")
    }
  }

  @Test("huge finite features are reported as an overflow in their column, not a step size")
  func overflowingColumn() throws {
    let text = (1...20).map { "\($0),\($0 % 2 == 0 ? "1e300" : "-1e300"),\($0 % 2)" }.joined(separator: "\n") + "\n"
    try withFile(text) { path in
      let result = runTool(["run", "hyperparam", "--data", path, "--iterations", "1"])
      #expect(result.status == 65, "\(result.error)")
      #expect(result.error.contains("column 2: the values are too large to standardize"), "\(result.error)")
    }
  }

  @Test("a seed beyond Int says the range; a misspelled algorithm gets a suggestion")
  func valueMessages() {
    let seed = runTool(["run", "quadratic", "--seed", "18446744073709551615", "--iterations", "1"])
    #expect(seed.status == 64)
    #expect(
      seed.error.contains("expected a non-negative integer no larger in magnitude than 9223372036854775807"),
      "\(seed.error)")
    let typo = runTool(["run", "quadratic", "--algorithm", "sobaa", "--iterations", "1"])
    #expect(typo.status == 64)
    #expect(
      typo.error.contains("The value 'sobaa' is invalid for '--algorithm <names>'. Did you mean 'soba'?"),
      "\(typo.error)")
  }

  @Test("options that do not apply to the task are refused with exit 64")
  func inapplicableOptions() {
    let corruption = runTool(["run", "quadratic", "--corruption", "0.3", "--iterations", "1"])
    #expect(corruption.status == 64)
    #expect(
      corruption.error.contains(
        "--corruption applies to the hypercleaning, hypercleaning-mlp, mnist-synthetic tasks, not 'quadratic'"))
    let dimension = runTool(["run", "quadratic", "--dimension", "100", "--iterations", "1"])
    #expect(dimension.status == 64)
    #expect(dimension.error.contains("--dimension applies to the pl-game, matrix-sensing tasks, not 'quadratic'"))
    let batch = runTool(["run", "quadratic", "--batch-size", "8", "--iterations", "1"])
    #expect(batch.status == 64)
    #expect(batch.error.contains("--batch-size applies to tasks with samples"), "\(batch.error)")
    let data = runTool(["hypergradient", "quadratic", "--data", "/tmp/x.csv"])
    #expect(data.status == 64)
    #expect(
      data.error.contains("--data applies to the hypercleaning, hypercleaning-mlp, hyperparam tasks, not 'quadratic'"),
      "\(data.error)")
  }
}
