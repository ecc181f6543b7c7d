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
  public init(output: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void, errorIsTerminal: Bool) {
    self.output = output
    self.error = error
    self.errorIsTerminal = errorIsTerminal
  }

  /// The process's standard output and error.
  public static var standard: Console {
    Console(
      output: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
      error: { text in FileHandle.standardError.write(Data(text.utf8)) },
      errorIsTerminal: isatty(2) != 0)
  }
}

/// The `bilevel-cli` tool.
public enum BilevelCommandLine {
  /// The tool's version.
  public static let version = "0.1.0"

  /// Runs the tool on `arguments` (without the program name) and returns the exit status:
  /// 0 on success, 64 for bad usage, 65 for a data file that does not parse, 66 for a file
  /// that cannot be opened, 1 for a run that fails.
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
    case "hypergradient": try HypergradientCommand.run(parsed, console: console)
    case "hvp": try HVPCommand.run(parsed, console: console)
    case "bench": try BenchCommand.run(parsed, console: console)
    case "list": ListCommand.run(console: console)
    default: console.output(CommandTree.root.helpText() + "\n")
    }
  }
}
