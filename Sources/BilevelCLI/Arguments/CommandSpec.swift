import Autodiff

// A declarative description of a command line, in the conventions of
// swift-argument-parser: a command has positional arguments, named options and flags,
// and subcommands. Parsing (`CommandSpec+Parsing.swift`) turns `[String]` into
// `ParsedArguments`; `HelpFormatter.swift` renders the help text from the same values.

/// A command: its name, its documentation, and the arguments it accepts.
///
/// A command either has subcommands or has positional arguments, not both:
///
///     let run = CommandSpec(
///       name: "run", abstract: "Run one task.",
///       arguments: [PositionalSpec("task", help: "The task to run.")],
///       options: [
///         .option("iterations", valueName: "n", help: "Outer iterations.", default: "100"),
///         .flag("quiet", help: "Print nothing but the result."),
///       ])
///     let root = CommandSpec(
///       name: "bilevel-cli", abstract: "Bilevel optimization.", version: "1.0.0",
///       subcommands: [run])
public struct CommandSpec: Sendable, Equatable {
  /// The word that selects the command (`run`), or the tool's name for the root.
  public var name: String
  /// One line shown after `OVERVIEW:` and in the parent's `SUBCOMMANDS:` list.
  public var abstract: String
  /// Paragraphs shown after the abstract in this command's help.
  public var discussion: String
  /// The text `--version` prints; set it on the root, subcommands inherit it.
  public var version: String?
  /// Positional arguments, in order.
  public var arguments: [PositionalSpec]
  /// Named options and flags, in the order help lists them.
  public var options: [OptionSpec]
  /// Subcommands, in the order help lists them.
  public var subcommands: [CommandSpec]

  /// Creates a command description.
  ///
  /// - Parameters:
  ///   - name: The word that selects the command, or the tool's name for the root.
  ///   - abstract: A one-line summary.
  ///   - discussion: Longer help text; empty for none.
  ///   - version: What `--version` prints; `nil` leaves `--version` undefined.
  ///   - arguments: Positional arguments; only the last may repeat, and no required
  ///     one may follow an optional one.
  ///   - options: Options and flags.
  ///   - subcommands: Subcommands; a command with subcommands takes no positionals.
  /// - Precondition: Names are unique, positionals are well ordered, and a command
  ///   does not have both subcommands and positional arguments.
  public init(
    name: String, abstract: String, discussion: String = "", version: String? = nil,
    arguments: [PositionalSpec] = [], options: [OptionSpec] = [], subcommands: [CommandSpec] = []
  ) {
    self.name = name
    self.abstract = abstract
    self.discussion = discussion
    self.version = version
    self.arguments = arguments
    self.options = options
    self.subcommands = subcommands
    _checkInvariants()
  }

  /// The subcommand called `name`, if any.
  func subcommand(named name: String) -> CommandSpec? {
    subcommands.first { $0.name == name }
  }

  /// The option or flag called `name` (without dashes), if any.
  func option(named name: String) -> OptionSpec? {
    options.first { $0.name == name }
  }

  private func _checkInvariants() {
    require(
      subcommands.isEmpty || arguments.isEmpty,
      "CommandSpec '\(name)': a command has subcommands or positional arguments, not both")
    let optionNames = options.map(\.name)
    require(
      Set(optionNames).count == optionNames.count,
      "CommandSpec '\(name)': duplicate option names in \(optionNames)")
    require(
      !optionNames.contains("help") && !optionNames.contains("version"),
      "CommandSpec '\(name)': '--help' and '--version' are built in")
    let argumentNames = arguments.map(\.name)
    require(
      Set(argumentNames).count == argumentNames.count,
      "CommandSpec '\(name)': duplicate argument names in \(argumentNames)")
    require(
      Set(argumentNames).isDisjoint(with: optionNames),
      "CommandSpec '\(name)': an argument and an option share a name")
    for (index, argument) in arguments.enumerated() {
      require(
        !argument.isRepeating || index == arguments.count - 1,
        "CommandSpec '\(name)': only the last positional argument may repeat")
      require(
        argument.isOptional || index == 0 || !arguments[index - 1].isOptional,
        "CommandSpec '\(name)': required argument '<\(argument.name)>' follows an optional one")
    }
    let subcommandNames = subcommands.map(\.name)
    require(
      Set(subcommandNames).count == subcommandNames.count && !subcommandNames.contains("help"),
      "CommandSpec '\(name)': subcommand names must be unique and not 'help'")
  }
}

/// A positional argument, shown as `<name>`.
public struct PositionalSpec: Sendable, Equatable {
  /// The name shown in angle brackets and used to read the value back.
  public var name: String
  /// One line of help.
  public var help: String
  /// Whether the argument may be left out (shown as `[<name>]`).
  public var isOptional: Bool
  /// Whether the argument takes every remaining value (shown as `<name> ...`).
  public var isRepeating: Bool

  /// Creates a positional argument.
  ///
  /// - Parameters:
  ///   - name: The name shown as `<name>` and used to read the value back.
  ///   - help: One line of help.
  ///   - isOptional: Whether the argument may be left out.
  ///   - isRepeating: Whether it collects all remaining positional values.
  public init(_ name: String, help: String, isOptional: Bool = false, isRepeating: Bool = false) {
    self.name = name
    self.help = help
    self.isOptional = isOptional
    self.isRepeating = isRepeating
  }
}

/// A named option (`--iterations <n>`) or flag (`--quiet`).
public struct OptionSpec: Sendable, Equatable {
  /// The long name, without the leading `--`.
  public var name: String
  /// The value's placeholder (`n` in `--iterations <n>`); `nil` for a flag.
  public var valueName: String?
  /// One line of help.
  public var help: String
  /// The value used when the option is absent, shown as `(default: ...)`.
  public var defaultValue: String?
  /// The values the option accepts, shown as `(values: ...)`; empty for any value.
  public var allowedValues: [String]
  /// Whether the value is a comma-separated list whose items are each checked against
  /// `allowedValues`; repeating the option appends to the list.
  public var isList: Bool
  /// Whether the option must be given (only meaningful without a default).
  public var isRequired: Bool

  /// Whether this is a flag, which takes no value.
  public var isFlag: Bool { valueName == nil }

  /// An option that takes a value.
  ///
  /// - Parameters:
  ///   - name: The long name without dashes (`iterations`).
  ///   - valueName: The placeholder shown in `<...>` (`n`).
  ///   - help: One line of help.
  ///   - default: The value used when the option is absent.
  ///   - values: The accepted values; empty accepts any value.
  ///   - isList: Whether the value is a comma-separated list.
  ///   - isRequired: Whether the option must be given; ignored when there is a default.
  /// - Returns: The option description.
  public static func option(
    _ name: String, valueName: String, help: String, default: String? = nil,
    values: [String] = [], isList: Bool = false, isRequired: Bool = false
  ) -> OptionSpec {
    OptionSpec(
      name: name, valueName: valueName, help: help, defaultValue: `default`,
      allowedValues: values, isList: isList, isRequired: isRequired && `default` == nil)
  }

  /// A flag: present or absent, no value.
  ///
  /// - Parameters:
  ///   - name: The long name without dashes (`quiet`).
  ///   - help: One line of help.
  /// - Returns: The flag description.
  public static func flag(_ name: String, help: String) -> OptionSpec {
    OptionSpec(
      name: name, valueName: nil, help: help, defaultValue: nil, allowedValues: [],
      isList: false, isRequired: false)
  }

  /// The synopsis used in help and error messages: `--iterations <n>` or `--quiet`.
  var label: String {
    valueName.map { "--\(name) <\($0)>" } ?? "--\(name)"
  }
}
