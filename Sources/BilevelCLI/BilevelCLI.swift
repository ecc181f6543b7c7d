// The command-line tool's logic, kept in a library so that tests can drive it.

import Foundation

/// Where the tool writes: standard output, standard error, and whether standard error is
/// a terminal (progress lines are shown only then).
public struct Console: Sendable {
  /// Writes to standard output.
  public var output: @Sendable (String) -> Void
  /// Writes to standard error.
  public var error: @Sendable (String) -> Void
  /// Whether standard error is an interactive terminal.
  public var errorIsTerminal: Bool

  /// A console with the given sinks.
  public init(
    output: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void, errorIsTerminal: Bool
  ) {
    self.output = output
    self.error = error
    self.errorIsTerminal = errorIsTerminal
  }

  /// The process's standard output and error.
  public static var standard: Console {
    Console(
      output: { text in writeStandardOutput(text) },
      error: { text in _ = writeAll(text, to: 2) },
      errorIsTerminal: isatty(2) != 0)
  }
}

/// The `bilevel-cli` tool.
public enum BilevelCommandLine {
  /// The tool's version.
  public static let version = "0.1.0"

  /// Runs the tool on `arguments` (without the program name) and returns the exit status:
  /// 0 on success, 64 for bad usage, 65 for a data file that does not parse, 66 for a file
  /// that cannot be opened, 73 for an output that cannot be written, 74 for standard output
  /// that fails, 1 for a run that fails.
  ///
  /// With no arguments it runs the main demo (data hyper-cleaning on the bundled digits).
  public static func run(_ arguments: [String], console: Console = .standard) -> Int32 {
    do {
      if arguments.isEmpty {
        try DemoCommand.run(console: console, iterations: 400)
        return 0
      }
      switch try CommandTree.root.parse(arguments) {
      case .help(let text):
        console.output(text + "\n")
      case .version(let text):
        console.output(text + "\n")
      case .run(let parsed):
        try dispatch(parsed, console: console)
      }
      return 0
    } catch {
      console.error(error.rendered + "\n")
      return error.exitCode
    }
  }

  static func dispatch(_ parsed: ParsedArguments, console: Console) throws(CLIError) {
    switch parsed.commandPath.last ?? "" {
    case "demo": try DemoCommand.run(console: console, iterations: parsed.int("iterations", range: 1...))
    case "run": try RunCommand.run(parsed, console: console)
    case "plot": try PlotCommand.run(parsed, console: console)
    case "hypergradient": try HypergradientCommand.run(parsed, console: console)
    case "hvp": try HVPCommand.run(parsed, console: console)
    case "bench": try BenchCommand.run(parsed, console: console)
    case "list": ListCommand.run(console: console)
    default: console.output(CommandTree.root.helpText() + "\n")
    }
  }
}

/// Writes all of `text` to the file descriptor `descriptor`, retrying short and
/// interrupted writes.
///
/// - Returns: nil, or the `errno` of the write that failed.
func writeAll(_ text: String, to descriptor: Int32) -> Int32? {
  let bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes.withUnsafeBytes { buffer in
      write(descriptor, buffer.baseAddress! + offset, bytes.count - offset)
    }
    if written < 0 {
      if errno == EINTR { continue }
      return errno
    }
    offset += written
  }
  return nil
}

/// Writes `text` to standard output. A closed pipe ends the process quietly with status
/// 141 (as SIGPIPE does for other tools); any other failure, such as a full disk, prints
/// one line to standard error and exits with 74 (EX_IOERR).
func writeStandardOutput(_ text: String) {
  guard let failure = writeAll(text, to: 1) else { return }
  if failure == EPIPE { exit(141) }
  _ = writeAll("\(CLIError.outputFailed(reason: String(cString: strerror(failure))).rendered)\n", to: 2)
  exit(74)
}
