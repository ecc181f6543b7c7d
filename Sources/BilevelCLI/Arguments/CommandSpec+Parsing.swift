// Parsing a command line against a `CommandSpec` tree.
//
// Goals, in priority order: the same behaviour and messages as swift-argument-parser;
// no crash on any input (this file is fuzzed, see Fuzz/ArgumentParserFuzz.swift); linear
// time in the number and length of the arguments.
//
// Precedence, as in swift-argument-parser: `help <command>`, `-h` and `--help` print help
// even when other arguments are wrong; then `--version`; then the first error in argument
// order; then missing required arguments.

import Foundation

/// What a command line asks for.
public enum ParseResult: Sendable, Equatable {
  /// Run the command that `arguments.commandPath` names, with these arguments.
  case run(ParsedArguments)
  /// Print this help text to standard output with `print(_:)` and exit with status 0.
  case help(String)
  /// Print this version to standard output and exit with status 0.
  case version(String)
}

extension CommandSpec {
  /// Parses a command line against this command and its subcommands.
  ///
  /// Options take their value as `--name value` or `--name=value`; a value may start with
  /// `-` only if it is a number (`--offset -3`). `--` ends the options: every later word is
  /// positional. `-h`, `--help` and `help <subcommand>...` return `.help` with the same text;
  /// `--version` returns `.version` when the root has a version. A command with
  /// subcommands given none returns its help.
  ///
  /// - Parameter arguments: The words after the tool's name (`CommandLine.arguments.dropFirst()`).
  /// - Returns: Whether to run, print help, or print the version.
  /// - Throws: `CLIError` for an unknown option or command, a missing or invalid value, a
  ///   missing required argument, or unexpected positional values.
  /// - Complexity: O(*n*) in the total length of `arguments`, times the number of options.
  public func parse(_ arguments: [String]) throws(CLIError) -> ParseResult {
    var parser = CommandLineParser(root: self)
    return try parser.parse(arguments)
  }
}

/// The state of one parse.
private struct CommandLineParser {
  var stack: [CommandSpec]
  var optionValues: [String: [String]] = [:]
  var flags: Set<String> = []
  var positionalValues: [String] = []
  var helpRequested = false
  var versionRequested = false
  /// The first error met; reported unless help or the version was requested.
  var firstError: CLIError?
  /// Set after an unknown command: later words belong to nothing and are only scanned
  /// for `--help` and `--version`.
  var stopped = false

  init(root: CommandSpec) {
    stack = [root]
  }

  var command: CommandSpec { stack[stack.count - 1] }

  mutating func record(_ error: CLIError) {
    if firstError == nil { firstError = error }
  }

  mutating func parse(_ arguments: [String]) throws(CLIError) -> ParseResult {
    var index = 0
    var afterTerminator = false
    while index < arguments.count {
      let token = arguments[index]
      index += 1
      if afterTerminator {
        if !stopped { acceptBareWord(token) }
        continue
      }
      if token == "--" {
        afterTerminator = true
        continue
      }
      if token == "-h" || token == "--help" {
        helpRequested = true
        continue
      }
      if token == "--version" && stack.version != nil {
        versionRequested = true
        continue
      }
      if stopped { continue }
      if token.hasPrefix("--") {
        index = acceptLongOption(token, arguments: arguments, next: index)
      } else if token.hasPrefix("-") && token != "-" && !token.isNegativeNumber {
        // A single-dash long name (`-iterations`) may be a typo of `--iterations`; a short
        // name gets no suggestion, as in swift-argument-parser.
        let suggestion = token.count > 2 ? suggestOption(for: "-" + token) : nil
        record(.unknownOption(token, suggestion: suggestion, stack.usageContext()))
      } else if !command.subcommands.isEmpty && token == "help" {
        return .help(try helpText(forWords: arguments[index...]))
      } else {
        acceptBareWord(token)
      }
    }

    if helpRequested { return .help(stack.helpText) }
    if versionRequested, let version = stack.version { return .version(version) }
    if let firstError { throw firstError }
    if !command.subcommands.isEmpty { return .help(stack.helpText) }
    return .run(try finish())
  }

  /// `help a b ...`: the help of subcommand `a b`, ignoring options and any words after
  /// a command without subcommands.
  func helpText(forWords words: ArraySlice<String>) throws(CLIError) -> String {
    var helpStack = stack
    for word in words where !word.hasPrefix("-") {
      let current = helpStack[helpStack.count - 1]
      if current.subcommands.isEmpty { break }
      guard let next = current.subcommand(named: word) else {
        let suggestion = closestMatch(to: word, among: current.subcommands.map(\.name))
        throw .unknownCommand(word, suggestion: suggestion, helpStack.usageContext())
      }
      helpStack.append(next)
    }
    return helpStack.helpText
  }

  /// A word that is not an option: a subcommand name or a positional value.
  mutating func acceptBareWord(_ word: String) {
    guard !command.subcommands.isEmpty else {
      positionalValues.append(word)
      return
    }
    if let next = command.subcommand(named: word) {
      stack.append(next)
    } else {
      let suggestion = closestMatch(to: word, among: command.subcommands.map(\.name) + ["help"])
      record(.unknownCommand(word, suggestion: suggestion, stack.usageContext()))
      stopped = true
    }
  }

  /// `--name`, `--name value` or `--name=value`; returns the index of the next word.
  mutating func acceptLongOption(_ token: String, arguments: [String], next: Int) -> Int {
    let body = token.dropFirst(2)
    let name: Substring
    let inlineValue: String?
    if let equals = body.firstIndex(of: "=") {
      name = body[..<equals]
      inlineValue = String(body[body.index(after: equals)...])
    } else {
      name = body
      inlineValue = nil
    }
    guard let option = command.option(named: String(name)) else {
      let spelled = "--" + name
      record(.unknownOption(spelled, suggestion: suggestOption(for: spelled), stack.usageContext()))
      return next
    }
    if option.isFlag {
      if let inlineValue {
        record(.unexpectedValue(inlineValue, flag: option.label, stack.usageContext()))
      } else {
        flags.insert(option.name)
      }
      return next
    }
    var next = next
    let value: String
    if let inlineValue {
      value = inlineValue
    } else if next < arguments.count, !arguments[next].looksLikeOption {
      value = arguments[next]
      next += 1
    } else {
      record(.missingValue(option: option.label, stack.usageContext(help: option.helpLine)))
      return next
    }
    if let error = validate(value, for: option) {
      record(error)
    } else if option.isList {
      optionValues[option.name, default: []].append(value)
    } else {
      optionValues[option.name] = [value]
    }
    return next
  }

  /// Checks a value against the option's fixed set of values, item by item for a list.
  func validate(_ value: String, for option: OptionSpec) -> CLIError? {
    let items = option.isList ? value.commaSeparatedItems : [value]
    guard let items else {
      return .invalidValue(
        value, argument: option.label, reason: "expected a comma-separated list",
        stack.usageContext(help: option.helpLine))
    }
    guard !option.allowedValues.isEmpty else { return nil }
    for item in items where !option.allowedValues.contains(item) {
      return .invalidChoice(
        item, argument: option.label, allowed: option.allowedValues,
        stack.usageContext(help: option.helpLine))
    }
    return nil
  }

  /// The long option closest to a misspelled one, or `nil`.
  func suggestOption(for spelled: String) -> String? {
    var candidates = command.options.map { "--\($0.name)" }
    if stack.version != nil { candidates.append("--version") }
    candidates.append("--help")
    return closestMatch(to: spelled, among: candidates)
  }

  /// Assigns positional values and checks that required arguments are present.
  func finish() throws(CLIError) -> ParsedArguments {
    var positionals: [String: [String]] = [:]
    var remaining = positionalValues[...]
    for argument in command.arguments {
      if argument.isRepeating {
        positionals[argument.name] = Array(remaining)
        remaining = []
      } else if let value = remaining.popFirst() {
        positionals[argument.name] = [value]
      }
      if !argument.isOptional && (positionals[argument.name] ?? []).isEmpty {
        throw .missingArgument(
          "<\(argument.name)>", stack.usageContext(help: "<\(argument.name)>  \(argument.help)"))
      }
    }
    if !remaining.isEmpty {
      throw .unexpectedArguments(Array(remaining), stack.usageContext())
    }
    for option in command.options where option.isRequired && optionValues[option.name] == nil {
      throw .missingArgument(option.label, stack.usageContext(help: option.helpLine))
    }
    return ParsedArguments(
      commandStack: stack, optionValues: optionValues, flags: flags, positionalValues: positionals)
  }
}

extension OptionSpec {
  /// The text after `Help:` in an error about this option: `--data <path>  The data file.`
  var helpLine: String { "\(label)  \(help)" }
}

extension String {
  /// Whether the word is a negative or signed number (`-3`, `-0.5`, `-1e-3`), which is a
  /// value rather than an option.
  var isNegativeNumber: Bool {
    guard hasPrefix("-"), utf8.count >= 2 else { return false }
    let second = utf8[utf8.index(after: utf8.startIndex)]
    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(second) || second == UInt8(ascii: ".")
    else { return false }
    return Double(self) != nil
  }

  /// Whether the word would be read as an option rather than as a value.
  var looksLikeOption: Bool {
    hasPrefix("-") && self != "-" && !isNegativeNumber
  }

  /// The comma-separated items, trimmed of spaces; `nil` if an item is empty.
  var commaSeparatedItems: [String]? {
    let items = split(separator: ",", omittingEmptySubsequences: false).map { item in
      var item = item
      while item.first == " " { item.removeFirst() }
      while item.last == " " { item.removeLast() }
      return String(item)
    }
    return items.contains(where: \.isEmpty) ? nil : items
  }
}

extension CommandSpec {
  /// Parses the process's arguments, handling help, version and errors the way
  /// swift-argument-parser's `parseOrExit()` does.
  ///
  /// Help and the version go to standard output and the process exits with status 0; an
  /// error goes to standard error (`CLIError.rendered`) and the process exits with the
  /// error's `exitCode`.
  ///
  /// - Parameter arguments: The words after the tool's name; by default the process's.
  /// - Returns: The arguments of the command to run.
  public func parseOrExit(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> ParsedArguments {
    do {
      switch try parse(arguments) {
      case .run(let parsed):
        return parsed
      case .help(let text), .version(let text):
        print(text)
        exit(0)
      }
    } catch {
      error.exit()
    }
  }
}

extension CLIError {
  /// Prints `rendered` and a newline to standard error and exits with `exitCode`.
  ///
  /// - Returns: Never; the process ends.
  public func exit() -> Never {
    FileHandle.standardError.write(Data((rendered + "\n").utf8))
    Foundation.exit(exitCode)
  }
}
