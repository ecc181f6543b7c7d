// Help and usage text in swift-argument-parser's layout (HelpGenerator.swift and
// UsageGenerator.swift there): `OVERVIEW:`, `USAGE:`, then `ARGUMENTS:`, `OPTIONS:` and
// `SUBCOMMANDS:` sections whose labels are indented two spaces and whose help starts at
// column 26, wrapped to 80 columns.

/// The layout constants of swift-argument-parser's help.
enum HelpLayout {
  /// Indent of a label in a section.
  static let indent = 2
  /// Column where an element's help text starts.
  static let labelColumnWidth = 26
  /// Width the text wraps to; fixed so that output does not depend on the terminal.
  static let screenWidth = 80
  /// Beyond this many arguments the usage line shows `[<options>]` instead of each option.
  static let maximumUsageArguments = 12
}

extension Array where Element == CommandSpec {
  /// The command words, starting with the tool's name.
  var commandPath: [String] { map(\.name) }

  /// The version of the innermost command that has one.
  var version: String? { last { $0.version != nil }?.version }

  /// The usage synopsis of the last command, as swift-argument-parser builds it:
  /// positional arguments, then options in order; optional ones in brackets; when there are
  /// more than twelve, only the positional and required ones after `[<options>]`.
  var usage: String {
    guard let command = last else { return "" }
    let toolName = commandPath.joined(separator: " ")
    var elements: [(synopsis: String, isPositional: Bool, isOptional: Bool)] = []
    for argument in command.arguments {
      var synopsis = "<\(argument.name)>"
      if argument.isRepeating { synopsis += " ..." }
      if argument.isOptional { synopsis = "[\(synopsis)]" }
      elements.append((synopsis, true, argument.isOptional))
    }
    for option in command.options {
      let isOptional = !option.isRequired
      elements.append((isOptional ? "[\(option.label)]" : option.label, false, isOptional))
    }
    var usage: String
    if elements.isEmpty {
      usage = toolName
    } else if elements.count > HelpLayout.maximumUsageArguments {
      let kept = elements.filter { $0.isPositional || !$0.isOptional }
      if !kept.isEmpty && kept.count <= HelpLayout.maximumUsageArguments {
        usage = "\(toolName) [<options>] " + kept.map(\.synopsis).joined(separator: " ")
      } else {
        usage = "\(toolName) <options>"
      }
    } else {
      usage = "\(toolName) " + elements.map(\.synopsis).joined(separator: " ")
    }
    if !command.subcommands.isEmpty {
      usage += " <subcommand>"
    }
    return usage
  }

  /// The usage context that errors in the last command print.
  func usageContext(help: String? = nil) -> CLIError.UsageContext {
    CLIError.UsageContext(commandPath: commandPath, usage: usage, help: help)
  }

  /// The full help text of the last command, ending as swift-argument-parser's does (print
  /// it with `print`, which adds the final newline).
  var helpText: String {
    guard let command = last else { return "" }
    var overview = command.abstract
    if !command.discussion.isEmpty {
      if !overview.isEmpty { overview += "\n" }
      overview += "\n\(command.discussion)"
    }
    let renderedOverview =
      overview.isEmpty ? "" : "OVERVIEW: \(overview)".wrapped(to: HelpLayout.screenWidth) + "\n\n"

    var argumentElements: [(label: String, help: String)] = []
    for argument in command.arguments {
      argumentElements.append(("<\(argument.name)>", argument.help))
    }
    var optionElements: [(label: String, help: String)] = []
    for option in command.options {
      let values = option.allowedValues.filter { !$0.isEmpty }
      let defaultValue = option.defaultValue ?? ""
      let valuesAndDefault: String
      switch (!values.isEmpty, !defaultValue.isEmpty) {
      case (false, false): valuesAndDefault = ""
      case (true, false): valuesAndDefault = "(values: \(values.joined(separator: ", ")))"
      case (false, true): valuesAndDefault = "(default: \(defaultValue))"
      case (true, true):
        valuesAndDefault =
          "(values: \(values.joined(separator: ", ")); default: \(defaultValue))"
      }
      let help = [option.help, valuesAndDefault].filter { !$0.isEmpty }.joined(separator: " ")
      optionElements.append((option.label, help))
    }
    if version != nil {
      optionElements.append(("--version", "Show the version."))
    }
    optionElements.append(("-h, --help", "Show help information."))
    let subcommandElements = command.subcommands.map { (label: $0.name, help: $0.abstract) }

    let sections = [
      ("ARGUMENTS", argumentElements), ("OPTIONS", optionElements),
      ("SUBCOMMANDS", subcommandElements),
    ]
    let renderedSections =
      sections
      .filter { !$0.1.isEmpty }
      .map { header, elements in
        "\(header):\n" + elements.map { Self.renderElement(label: $0.label, help: $0.help) }.joined()
      }
      .joined(separator: "\n")

    var helpSubcommandMessage = ""
    if !command.subcommands.isEmpty {
      var names = commandPath
      names.insert("help", at: 1)
      helpSubcommandMessage =
        "\n  See '\(names.joined(separator: " ")) <subcommand>' for detailed help."
    }
    return renderedOverview + "USAGE: \(usage)\n\n" + renderedSections + helpSubcommandMessage
  }

  /// One line (or more, wrapped) of a help section: the label indented two spaces, the help
  /// from column 26, or on the next line when the label reaches column 26.
  static func renderElement(label: String, help: String) -> String {
    let paddedLabel = String(repeating: " ", count: HelpLayout.indent) + label
    guard !help.isEmpty else { return paddedLabel + "\n" }
    let wrapped = help.wrapped(
      to: HelpLayout.screenWidth, wrappingIndent: HelpLayout.labelColumnWidth)
    if paddedLabel.count < HelpLayout.labelColumnWidth {
      return paddedLabel + wrapped.dropFirst(paddedLabel.count) + "\n"
    }
    return paddedLabel + "\n" + wrapped + "\n"
  }
}

extension CommandSpec {
  /// The help text of this command or of one of its subcommands, exactly as `-h`, `--help`
  /// and `help <command>` print it.
  ///
  /// - Parameter path: Subcommand names below this command; empty for this command.
  /// - Returns: The help text, to print with `print(_:)`.
  /// - Precondition: Every name in `path` is a subcommand of the one before it.
  public func helpText(forSubcommand path: [String] = []) -> String {
    commandStack(for: path).helpText
  }

  /// The usage synopsis of this command or of one of its subcommands.
  ///
  /// - Parameter path: Subcommand names below this command; empty for this command.
  /// - Returns: The synopsis without `USAGE:`, for example `bilevel-cli run [<options>] <task>`.
  /// - Precondition: Every name in `path` is a subcommand of the one before it.
  public func usage(forSubcommand path: [String] = []) -> String {
    commandStack(for: path).usage
  }

  func commandStack(for path: [String]) -> [CommandSpec] {
    var stack = [self]
    for name in path {
      guard let next = stack[stack.count - 1].subcommand(named: name) else {
        fatalError("CommandSpec '\(stack.commandPath.joined(separator: " "))' has no subcommand '\(name)'")
      }
      stack.append(next)
    }
    return stack
  }
}

extension StringProtocol where SubSequence == Substring {
  /// The text wrapped at spaces to `columns`, each line after an explicit or inserted break
  /// indented by `wrappingIndent` (a port of swift-argument-parser's `wrapped(to:wrappingIndent:)`,
  /// which indents the first line too).
  ///
  /// - Parameters:
  ///   - columns: The line width.
  ///   - wrappingIndent: Spaces before every non-empty line.
  /// - Returns: The wrapped text, lines separated by `\n`.
  fileprivate func wrapped(to columns: Int, wrappingIndent: Int = 0) -> String {
    let columns = columns - wrappingIndent
    guard columns > 0 else { return String(self) }
    var result: [Substring] = []
    var currentIndex = startIndex
    while true {
      let nextChunk = self[currentIndex...].prefix(columns)
      if let lastLineBreak = nextChunk.lastIndex(of: "\n") {
        result.append(
          contentsOf: self[currentIndex..<lastLineBreak].split(
            separator: "\n", omittingEmptySubsequences: false))
        currentIndex = index(after: lastLineBreak)
      } else if nextChunk.endIndex == endIndex {
        result.append(self[currentIndex...])
        break
      } else if let lastSpace = nextChunk.lastIndex(of: " ") {
        result.append(self[currentIndex..<lastSpace])
        currentIndex = index(after: lastSpace)
      } else if let nextSpace = self[currentIndex...].firstIndex(of: " ") {
        result.append(self[currentIndex..<nextSpace])
        currentIndex = index(after: nextSpace)
      } else {
        result.append(self[currentIndex...])
        break
      }
    }
    let indent = String(repeating: " ", count: wrappingIndent)
    return result.map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n")
  }
}
