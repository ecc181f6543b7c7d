import Foundation

/// The arguments of a parsed command line, read back by name with typed accessors that
/// validate and throw `CLIError`s naming the argument, as swift-argument-parser would.
///
///     let iterations = try arguments.int("iterations", range: 0...)
///     let step = try arguments.double("outer-step", positive: true)
///     let algorithms = try arguments.list("algorithm")
///
/// An accessor returns the given value, else the option's default, else throws
/// `CLIError.missingArgument`; use `contains(_:)` first for options without a default.
/// Asking for a name the command does not declare is a programmer error.
public struct ParsedArguments: Sendable, Equatable {
  let commandStack: [CommandSpec]
  let optionValues: [String: [String]]
  let flags: Set<String>
  let positionalValues: [String: [String]]

  init(
    commandStack: [CommandSpec], optionValues: [String: [String]], flags: Set<String>,
    positionalValues: [String: [String]]
  ) {
    self.commandStack = commandStack
    self.optionValues = optionValues
    self.flags = flags
    self.positionalValues = positionalValues
  }

  /// The words that name the command to run, starting with the tool (`["bilevel-cli", "run"]`).
  public var commandPath: [String] { commandStack.commandPath }

  /// Whether the user gave the option, flag or positional argument `name`.
  ///
  /// - Parameter name: An option or flag name without dashes, or a positional's name.
  /// - Returns: `true` if it appeared on the command line (defaults do not count).
  public func contains(_ name: String) -> Bool {
    switch lookUp(name) {
    case .flag: flags.contains(name)
    case .option: optionValues[name] != nil
    case .positional: !(positionalValues[name] ?? []).isEmpty
    }
  }

  /// Whether the flag `name` was given.
  ///
  /// - Parameter name: The flag's name without dashes.
  /// - Returns: `true` if it appeared on the command line.
  /// - Precondition: The command declares the flag.
  public func flag(_ name: String) -> Bool {
    guard case .flag = lookUp(name) else {
      fatalError("ParsedArguments.flag: '\(name)' is not a flag of '\(commandName)'")
    }
    return flags.contains(name)
  }

  /// The raw value of an option or positional argument, or its default.
  ///
  /// - Parameter name: An option name without dashes, or a positional's name.
  /// - Returns: The last value given, else the default.
  /// - Throws: `CLIError.missingArgument` if there is neither.
  public func string(_ name: String) throws(CLIError) -> String {
    try rawValue(name)
  }

  /// An integer option or positional argument.
  ///
  /// - Parameter name: An option name without dashes, or a positional's name.
  /// - Returns: The value, or the default.
  /// - Throws: `CLIError.invalidValue` (`expected an integer`) if the value is not an
  ///   integer; `CLIError.missingArgument` if there is no value and no default.
  public func int(_ name: String) throws(CLIError) -> Int {
    try int(name, checkedAgainst: Range<Int>?.none)
  }

  /// An integer option or positional argument, checked against a range.
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - range: The accepted values, for example `0...` or `1...100`.
  /// - Returns: The value, or the default.
  /// - Throws: `CLIError.invalidValue` saying what is expected (`expected a non-negative
  ///   integer`) if the value is not an integer or is out of range;
  ///   `CLIError.missingArgument` if there is no value and no default.
  public func int(_ name: String, range: some RangeExpression<Int>) throws(CLIError) -> Int {
    try int(name, checkedAgainst: range)
  }

  private func int<R: RangeExpression<Int>>(_ name: String, checkedAgainst range: R?)
    throws(CLIError) -> Int
  {
    let text = try rawValue(name)
    let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    if Int(text) == nil, !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
      // A well-formed integer too large for Int: say so rather than that it is not an integer.
      throw invalidValue(
        text, name: name, reason: "\(Self.integerExpectation(range)) no larger in magnitude than \(Int.max)")
    }
    guard let value = Int(text), range?.contains(value) ?? true else {
      throw invalidValue(text, name: name, reason: Self.integerExpectation(range))
    }
    return value
  }

  /// A finite floating-point option or positional argument.
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - positive: Whether the value must be greater than zero.
  ///   - range: The accepted values, for example `0...1`; `nil` for any finite value.
  /// - Returns: The value, or the default.
  /// - Throws: `CLIError.invalidValue` saying what is expected (`expected a positive number`)
  ///   if the value is not a finite number or is out of bounds; `CLIError.missingArgument`
  ///   if there is no value and no default.
  public func double(_ name: String, positive: Bool = false, range: ClosedRange<Double>? = nil)
    throws(CLIError) -> Double
  {
    let text = try rawValue(name)
    guard let value = Double(text), value.isFinite, !positive || value > 0,
      range?.contains(value) ?? true
    else {
      var expectation = positive ? "expected a positive number" : "expected a number"
      if let range {
        expectation += " from \(Self.shortForm(range.lowerBound)) to \(Self.shortForm(range.upperBound))"
      }
      if let value = Double(text), !value.isFinite, !positive, range == nil {
        expectation = "expected a finite number"
      }
      throw invalidValue(text, name: name, reason: expectation)
    }
    return value
  }

  /// An option whose value is one of a fixed set.
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - allowed: The accepted values; options that declare `values:` were already checked
  ///     against those while parsing.
  /// - Returns: The value, or the default.
  /// - Throws: `CLIError.invalidChoice` listing the accepted values;
  ///   `CLIError.missingArgument` if there is no value and no default.
  public func choice(_ name: String, from allowed: [String]) throws(CLIError) -> String {
    let value = try rawValue(name)
    guard allowed.contains(value) else {
      throw .invalidChoice(
        value, argument: argumentLabel(name), allowed: allowed,
        commandStack.usageContext(help: helpLine(name)))
    }
    return value
  }

  /// A comma-separated list option (`--algorithm soba,bome`), the items of every
  /// occurrence in order; or all the values of a repeating positional argument.
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - allowed: If given, the accepted items.
  /// - Returns: The items (the default's if the option is absent); empty for an absent
  ///   repeating positional.
  /// - Throws: `CLIError.invalidValue` for an empty item, `CLIError.invalidChoice` for an
  ///   item not in `allowed`, `CLIError.missingArgument` if there is no value and no default.
  public func list(_ name: String, from allowed: [String]? = nil) throws(CLIError) -> [String] {
    var items: [String] = []
    let argument: String
    switch lookUp(name) {
    case .positional(let spec):
      argument = "<\(spec.name)>"
      items = positionalValues[name] ?? []
    case .option(let spec):
      argument = spec.label
      let values = optionValues[name] ?? spec.defaultValue.map { [$0] }
      guard let values else {
        throw .missingArgument(spec.label, commandStack.usageContext(help: spec.helpLine))
      }
      for value in values {
        guard let parts = value.commaSeparatedItems else {
          throw invalidValue(value, name: name, reason: "expected a comma-separated list")
        }
        items += parts
      }
    case .flag:
      fatalError("ParsedArguments.list: '\(name)' is a flag of '\(commandName)'")
    }
    if let allowed {
      for item in items where !allowed.contains(item) {
        throw .invalidChoice(
          item, argument: argument, allowed: allowed,
          commandStack.usageContext(help: helpLine(name)))
      }
    }
    return items
  }

  /// A file path option or positional argument, with a leading `~` expanded.
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - mustExist: Whether the path must name an existing file or directory.
  /// - Returns: The path.
  /// - Throws: `CLIError.invalidValue` for an empty path, `CLIError.cannotOpen` if
  ///   `mustExist` and nothing is there, `CLIError.missingArgument` if there is no value
  ///   and no default.
  public func path(_ name: String, mustExist: Bool = false) throws(CLIError) -> String {
    let text = try rawValue(name)
    guard !text.isEmpty else {
      throw invalidValue(text, name: name, reason: "expected a path")
    }
    let path = (text as NSString).expandingTildeInPath
    if mustExist && !FileManager.default.fileExists(atPath: path) {
      throw .cannotOpen(path: text, reason: "No such file or directory")
    }
    return path
  }

  /// A usage error for a check the parser cannot make, such as two options that conflict.
  ///
  /// - Parameter message: The sentence after `Error: `.
  /// - Returns: An error that prints the command's usage line and exits with status 64.
  public func validationError(_ message: String) -> CLIError {
    .validation(message, commandStack.usageContext())
  }

  /// An invalid-value error for the current value of `name`, for checks made by the
  /// command (a malformed item in a list, say).
  ///
  /// - Parameters:
  ///   - name: An option name without dashes, or a positional's name.
  ///   - reason: What was expected, printed after a colon; `nil` for none.
  /// - Returns: `The value '...' is invalid for '--name <value>': reason`, with usage.
  public func invalidValueError(_ name: String, reason: String?) -> CLIError {
    let value = (try? rawValue(name)) ?? ""
    return invalidValue(value, name: name, reason: reason)
  }

  // MARK: - Looking up declarations

  private enum Declaration {
    case option(OptionSpec)
    case flag(OptionSpec)
    case positional(PositionalSpec)
  }

  private var commandName: String { commandPath.joined(separator: " ") }

  /// The declaration of `name` in the command, or in a parent command for options.
  private func lookUp(_ name: String) -> Declaration {
    if let positional = commandStack.last?.arguments.first(where: { $0.name == name }) {
      return .positional(positional)
    }
    for command in commandStack.reversed() {
      if let option = command.option(named: name) {
        return option.isFlag ? .flag(option) : .option(option)
      }
    }
    fatalError("ParsedArguments: '\(commandName)' declares no argument '\(name)'")
  }

  /// The last value of an option or positional, else the option's default.
  private func rawValue(_ name: String) throws(CLIError) -> String {
    switch lookUp(name) {
    case .positional(let spec):
      let label = "<\(spec.name)>"
      guard let value = positionalValues[name]?.last else {
        throw .missingArgument(label, commandStack.usageContext(help: helpLine(name)))
      }
      return value
    case .option(let spec):
      guard let value = optionValues[name]?.last ?? spec.defaultValue else {
        throw .missingArgument(spec.label, commandStack.usageContext(help: spec.helpLine))
      }
      return value
    case .flag:
      fatalError("ParsedArguments: '\(name)' is a flag of '\(commandName)'; use flag(_:)")
    }
  }

  private func argumentLabel(_ name: String) -> String {
    switch lookUp(name) {
    case .positional(let spec): "<\(spec.name)>"
    case .option(let spec), .flag(let spec): spec.label
    }
  }

  private func helpLine(_ name: String) -> String {
    switch lookUp(name) {
    case .positional(let spec): "<\(spec.name)>  \(spec.help)"
    case .option(let spec), .flag(let spec): spec.helpLine
    }
  }

  private func invalidValue(_ value: String, name: String, reason: String?) -> CLIError {
    .invalidValue(
      value, argument: argumentLabel(name), reason: reason,
      commandStack.usageContext(help: helpLine(name)))
  }

  /// A bound as people write it: `1` rather than `1.0`.
  private static func shortForm(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }

  /// What an integer in `range` is, in words: `expected a non-negative integer`.
  private static func integerExpectation<R: RangeExpression<Int>>(_ range: R?) -> String {
    switch range {
    case nil:
      return "expected an integer"
    case let range as PartialRangeFrom<Int>:
      switch range.lowerBound {
      case 0: return "expected a non-negative integer"
      case 1: return "expected a positive integer"
      case let lower: return "expected an integer greater than or equal to \(lower)"
      }
    case let range as ClosedRange<Int>:
      return "expected an integer from \(range.lowerBound) to \(range.upperBound)"
    case let range as Range<Int> where !range.isEmpty:
      return "expected an integer from \(range.lowerBound) to \(range.upperBound - 1)"
    case let range as PartialRangeThrough<Int>:
      return "expected an integer less than or equal to \(range.upperBound)"
    case let range as PartialRangeUpTo<Int>:
      return "expected an integer less than \(range.upperBound)"
    default:
      return "expected an integer in the accepted range"
    }
  }
}
