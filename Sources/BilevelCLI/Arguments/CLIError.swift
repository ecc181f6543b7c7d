/// An error the command-line tool reports to the user, with its exit status.
///
/// Usage errors render the way swift-argument-parser renders them, for example:
///
///     Error: Unknown option '--itrations'. Did you mean '--iterations'?
///     Usage: bilevel-cli run [<options>] <task>
///       See 'bilevel-cli run --help' for more information.
///
/// and errors about a value or a missing value add the argument's help line:
///
///     Error: The value 'x' is invalid for '--iterations <n>': expected a non-negative integer
///     Help:  --iterations <n>  Number of outer iterations.
///     Usage: bilevel-cli run [<options>] <task>
///       See 'bilevel-cli run --help' for more information.
///
/// Other errors are one line: `Error: ...`.
public enum CLIError: Error, Sendable, Equatable, CustomStringConvertible {
  /// An option that the command does not define, with the closest defined name.
  case unknownOption(String, suggestion: String?, UsageContext)
  /// An option given last, or followed by another option, with no value.
  case missingValue(option: String, UsageContext)
  /// A value given to a flag with `--flag=value`.
  case unexpectedValue(String, flag: String, UsageContext)
  /// A value that does not parse or is out of range; `reason` says what was expected.
  case invalidValue(String, argument: String, reason: String?, UsageContext)
  /// A value outside an option's fixed set of values.
  case invalidChoice(String, argument: String, allowed: [String], UsageContext)
  /// A required positional argument or option that was not given.
  case missingArgument(String, UsageContext)
  /// Positional values left over after every positional argument has one.
  case unexpectedArguments([String], UsageContext)
  /// A subcommand that does not exist, with the closest existing name.
  case unknownCommand(String, suggestion: String?, UsageContext)
  /// Arguments that parse but do not make sense together.
  case validation(String, UsageContext)
  /// A file that cannot be opened or read (exit status 66, EX_NOINPUT).
  case cannotOpen(path: String, reason: String)
  /// A data file that opens but does not parse (exit status 65, EX_DATAERR).
  case invalidData(path: String, reason: String)
  /// An output file that cannot be created or written (exit status 73, EX_CANTCREAT).
  case cannotCreate(path: String, reason: String)
  /// Standard output that cannot be written, a full disk for instance (exit status 74,
  /// EX_IOERR).
  case outputFailed(reason: String)
  /// A run that started and failed (exit status 1).
  case runFailed(String)

  /// Where a usage error happened: enough to print the usage line and the help hint.
  public struct UsageContext: Sendable, Equatable {
    /// The words that name the command, starting with the tool (`["bilevel-cli", "run"]`).
    public var commandPath: [String]
    /// The command's usage synopsis (`bilevel-cli run [<options>] <task>`).
    public var usage: String
    /// The argument's synopsis and abstract, printed after `Help:`; `nil` for none.
    public var help: String?

    /// Creates a context.
    ///
    /// - Parameters:
    ///   - commandPath: The words that name the command, starting with the tool.
    ///   - usage: The usage synopsis, without `Usage:`.
    ///   - help: The `Help:` line's text, if any.
    public init(commandPath: [String], usage: String, help: String? = nil) {
      self.commandPath = commandPath
      self.usage = usage
      self.help = help
    }
  }

  /// The process exit status: 64 (EX_USAGE) for usage errors, 65 (EX_DATAERR) for a
  /// data file that does not parse, 66 (EX_NOINPUT) for a file that cannot be opened,
  /// 73 (EX_CANTCREAT) for an output that cannot be written, 74 (EX_IOERR) for standard
  /// output that fails, and 1 for a failed run.
  public var exitCode: Int32 {
    switch self {
    case .cannotOpen: 66
    case .invalidData: 65
    case .cannotCreate: 73
    case .outputFailed: 74
    case .runFailed: 1
    default: 64
    }
  }

  /// Whether this is a usage error, rendered with the usage line.
  public var isUsageError: Bool { context != nil }

  /// The usage context of a usage error; `nil` for the other errors.
  public var context: UsageContext? {
    switch self {
    case .unknownOption(_, _, let c), .missingValue(_, let c), .unexpectedValue(_, _, let c),
      .invalidValue(_, _, _, let c), .invalidChoice(_, _, _, let c), .missingArgument(_, let c),
      .unexpectedArguments(_, let c), .unknownCommand(_, _, let c), .validation(_, let c):
      c
    case .cannotOpen, .invalidData, .cannotCreate, .outputFailed, .runFailed:
      nil
    }
  }

  /// The message after `Error: `, one line except for long lists of allowed values.
  public var message: String {
    switch self {
    case .unknownOption(let name, let suggestion, _):
      suggestion.map { "Unknown option '\(name)'. Did you mean '\($0)'?" }
        ?? "Unknown option '\(name)'"
    case .missingValue(let option, _):
      "Missing value for '\(option)'"
    case .unexpectedValue(let value, let flag, _):
      "The option '\(flag)' does not take any value, but '\(value)' was specified."
    case .invalidValue(let value, let argument, let reason, _):
      "The value '\(value)' is invalid for '\(argument)'" + (reason.map { ": \($0)" } ?? "")
    case .invalidChoice(let value, let argument, let allowed, _):
      if let suggestion = closestMatch(to: value, among: allowed) {
        "The value '\(value)' is invalid for '\(argument)'. Did you mean '\(suggestion)'?"
          + Self.formattedValueList(allowed).dropFirst()
      } else {
        "The value '\(value)' is invalid for '\(argument)'" + Self.formattedValueList(allowed)
      }
    case .missingArgument(let argument, _):
      "Missing expected argument '\(argument)'"
    case .unexpectedArguments(let values, _):
      values.count == 1
        ? "Unexpected argument '\(values[0])'"
        : "\(values.count) unexpected arguments: '\(values.joined(separator: "', '"))'"
    case .unknownCommand(let name, let suggestion, _):
      suggestion.map { "Unknown command '\(name)'. Did you mean '\($0)'?" }
        ?? "Unknown command '\(name)'"
    case .validation(let message, _):
      message
    case .cannotOpen(let path, let reason):
      "Cannot open '\(path)': \(reason)"
    case .invalidData(let path, let reason):
      "Invalid data in '\(path)': \(reason)"
    case .cannotCreate(let path, let reason):
      "Cannot write '\(path)': \(reason)"
    case .outputFailed(let reason):
      "Cannot write to standard output: \(reason)"
    case .runFailed(let message):
      message
    }
  }

  /// The full text to print on standard error, without a trailing newline.
  ///
  /// - Returns: `Error: <message>`, then for usage errors an optional `Help:` line, the
  ///   `Usage:` line and `  See '<command> --help' for more information.`
  public var rendered: String {
    var text = "Error: \(message)"
    if let context {
      if let help = context.help, !help.isEmpty {
        text += "\nHelp:  \(help)"
      }
      text += "\nUsage: \(context.usage)"
      text += "\n  See '\(context.commandPath.joined(separator: " ")) --help' for more information."
    }
    return text
  }

  /// The same as `rendered`.
  public var description: String { rendered }

  /// swift-argument-parser's list of valid values: `. Please provide one of 'a', 'b' or
  /// 'c'.`, or a bulleted list for six values or more.
  private static func formattedValueList(_ values: [String]) -> String {
    if values.isEmpty { return "" }
    if values.count < 6 {
      let quoted = values.map { "'\($0)'" }
      let list =
        quoted.count <= 2
        ? quoted.joined(separator: " and ")
        : quoted.dropLast().joined(separator: ", ") + " or \(quoted[quoted.count - 1])"
      return ". Please provide one of \(list)."
    }
    return ". Please provide one of the following:\n"
      + values.map { "  - \($0)" }.joined(separator: "\n")
  }
}
