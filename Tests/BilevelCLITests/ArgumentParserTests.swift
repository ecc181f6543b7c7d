import BilevelCLI
import Testing

// MARK: - An example command tree

private let runCommand = CommandSpec(
  name: "run",
  abstract: "Run one task with one or more algorithms.",
  discussion: "Prints a table of results; see --format for other outputs.",
  arguments: [PositionalSpec("task", help: "The task to run.")],
  options: [
    .option(
      "algorithm", valueName: "names", help: "Algorithms to compare, separated by commas.",
      default: "soba", values: ["soba", "bome", "stocbio"], isList: true),
    .option("iterations", valueName: "n", help: "Number of outer iterations.", default: "100"),
    .option("outer-step", valueName: "step", help: "Outer learning rate.", default: "0.01"),
    .option("inner-learning-rate", valueName: "rate", help: "Inner learning rate.", default: "0.1"),
    .option("data", valueName: "path", help: "A CSV file of features, the label last."),
    .option("format", valueName: "format", help: "Output format.", default: "table", values: ["table", "csv", "json"]),
    .flag("quiet", help: "Print only the final table."),
  ])

private let plotCommand = CommandSpec(
  name: "plot",
  abstract: "Plot traces as SVG.",
  arguments: [PositionalSpec("traces", help: "Trace files.", isRepeating: true)],
  options: [.option("output", valueName: "path", help: "The SVG file.", isRequired: true)])

private let tool = CommandSpec(
  name: "bilevel-cli",
  abstract: "Bilevel optimization with automatic differentiation.",
  version: "1.2.3",
  subcommands: [runCommand, plotCommand])

private let runUsage =
  "bilevel-cli run <task> [--algorithm <names>] [--iterations <n>] [--outer-step <step>] "
  + "[--inner-learning-rate <rate>] [--data <path>] [--format <format>] [--quiet]"

private let rootHelp = """
  OVERVIEW: Bilevel optimization with automatic differentiation.

  USAGE: bilevel-cli <subcommand>

  OPTIONS:
    --version               Show the version.
    -h, --help              Show help information.

  SUBCOMMANDS:
    run                     Run one task with one or more algorithms.
    plot                    Plot traces as SVG.

    See 'bilevel-cli help <subcommand>' for detailed help.
  """

private let runHelp = """
  OVERVIEW: Run one task with one or more algorithms.

  Prints a table of results; see --format for other outputs.

  USAGE: \(runUsage)

  ARGUMENTS:
    <task>                  The task to run.

  OPTIONS:
    --algorithm <names>     Algorithms to compare, separated by commas. (values:
                            soba, bome, stocbio; default: soba)
    --iterations <n>        Number of outer iterations. (default: 100)
    --outer-step <step>     Outer learning rate. (default: 0.01)
    --inner-learning-rate <rate>
                            Inner learning rate. (default: 0.1)
    --data <path>           A CSV file of features, the label last.
    --format <format>       Output format. (values: table, csv, json; default:
                            table)
    --quiet                 Print only the final table.
    --version               Show the version.
    -h, --help              Show help information.

  """

/// Parses and returns the error, failing the test if parsing succeeds.
private func parseError(_ arguments: [String]) -> CLIError? {
  do {
    let result = try tool.parse(arguments)
    Issue.record("expected an error, got \(result)")
    return nil
  } catch {
    return error
  }
}

/// Parses a command line that must ask to run, and returns its arguments.
private func parsed(_ arguments: [String]) throws -> ParsedArguments {
  guard case .run(let parsed) = try tool.parse(arguments) else {
    Issue.record("expected .run for \(arguments)")
    throw CLIError.runFailed("not a run")
  }
  return parsed
}

/// What `arguments.int(...)` etc. threw.
private func accessorError(_ body: () throws -> Void) -> CLIError? {
  do {
    try body()
    Issue.record("expected the accessor to throw")
    return nil
  } catch let error as CLIError {
    return error
  } catch {
    Issue.record("expected a CLIError, got \(error)")
    return nil
  }
}

@Suite("Argument parser")
struct ArgumentParserTests {
  // MARK: Help and version

  @Test(
    "-h, --help, help and no arguments print the root help",
    arguments: [[], ["-h"], ["--help"], ["help"]])
  func rootHelpText(arguments: [String]) throws {
    #expect(try tool.parse(arguments) == .help(rootHelp))
  }

  @Test(
    "-h, --help and help <command> print the same subcommand help",
    arguments: [
      ["run", "-h"], ["run", "--help"], ["help", "run"], ["run", "--bogus", "--help"],
      ["run", "x", "--iterations", "-h"], ["help", "run", "--help"], ["help", "run", "extra"],
    ])
  func subcommandHelpText(arguments: [String]) throws {
    #expect(try tool.parse(arguments) == .help(runHelp))
    #expect(tool.helpText(forSubcommand: ["run"]) == runHelp)
  }

  @Test("help lays out labels of 24 or more characters on their own line")
  func longLabel() {
    #expect(runHelp.contains("  --inner-learning-rate <rate>\n                          Inner learning rate."))
  }

  @Test("--version prints the root's version from any subcommand", arguments: [["--version"], ["run", "--version"]])
  func version(arguments: [String]) throws {
    #expect(try tool.parse(arguments) == .version("1.2.3"))
  }

  @Test("without a version, --version is an unknown option")
  func noVersion() {
    let command = CommandSpec(name: "tool", abstract: "A tool.")
    #expect(throws: CLIError.self) { try command.parse(["--version"]) }
    #expect(!command.helpText().contains("--version"))
  }

  @Test("the usage line abbreviates more than twelve options as [<options>]")
  func longUsage() {
    let flags = (1...13).map { OptionSpec.flag("flag\($0)", help: "Flag \($0).") }
    let command = CommandSpec(
      name: "tool", abstract: "A tool.", arguments: [PositionalSpec("input", help: "Input.")],
      options: flags + [.option("data", valueName: "path", help: "Data.", isRequired: true)])
    #expect(command.usage() == "tool [<options>] <input> --data <path>")
    let twelve = CommandSpec(name: "tool", abstract: "A tool.", options: Array(flags.prefix(12)))
    #expect(twelve.usage() == "tool " + (1...12).map { "[--flag\($0)]" }.joined(separator: " "))
  }

  @Test("optional and repeating positionals are bracketed and marked in the usage line")
  func positionalUsage() {
    let command = CommandSpec(
      name: "tool", abstract: "A tool.",
      arguments: [
        PositionalSpec("input", help: "Input."),
        PositionalSpec("more", help: "More inputs.", isOptional: true, isRepeating: true),
      ])
    #expect(command.usage() == "tool <input> [<more> ...]")
    #expect(plotCommand.usage() == "plot <traces> ... --output <path>")
  }

  // MARK: Errors

  @Test("an unknown option, with and without a suggestion")
  func unknownOption() {
    #expect(
      parseError(["run", "x", "--foo"])?.rendered == """
        Error: Unknown option '--foo'
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    #expect(
      parseError(["run", "x", "--itrations", "5"])?.rendered == """
        Error: Unknown option '--itrations'. Did you mean '--iterations'?
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    #expect(
      parseError(["run", "x", "--iter", "5"])?.message == "Unknown option '--iter'. Did you mean '--iterations'?")
    #expect(
      parseError(["run", "x", "-iterations", "5"])?.message
        == "Unknown option '-iterations'. Did you mean '--iterations'?")
    #expect(parseError(["run", "x", "-q"])?.message == "Unknown option '-q'")
    #expect(
      parseError(["--foo"])?.rendered == """
        Error: Unknown option '--foo'
        Usage: bilevel-cli <subcommand>
          See 'bilevel-cli --help' for more information.
        """)
  }

  @Test("a missing value names the option and prints its help")
  func missingValue() {
    let expected = """
      Error: Missing value for '--data <path>'
      Help:  --data <path>  A CSV file of features, the label last.
      Usage: \(runUsage)
        See 'bilevel-cli run --help' for more information.
      """
    #expect(parseError(["run", "x", "--data"])?.rendered == expected)
    #expect(parseError(["run", "x", "--data", "--quiet"])?.rendered == expected)
  }

  @Test("a missing positional argument")
  func missingArgument() {
    #expect(
      parseError(["run"])?.rendered == """
        Error: Missing expected argument '<task>'
        Help:  <task>  The task to run.
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    #expect(parseError(["plot", "a.json"])?.message == "Missing expected argument '--output <path>'")
    #expect(parseError(["plot", "--output", "a.svg"])?.message == "Missing expected argument '<traces>'")
  }

  @Test("an unknown command, with and without a suggestion")
  func unknownCommand() {
    #expect(
      parseError(["rnu"])?.rendered == """
        Error: Unknown command 'rnu'. Did you mean 'run'?
        Usage: bilevel-cli <subcommand>
          See 'bilevel-cli --help' for more information.
        """)
    #expect(parseError(["foo"])?.message == "Unknown command 'foo'")
    #expect(parseError(["help", "plto"])?.message == "Unknown command 'plto'. Did you mean 'plot'?")
  }

  @Test("values outside an option's set are listed as swift-argument-parser lists them")
  func invalidChoice() {
    #expect(
      parseError(["run", "x", "--format", "png"])?.rendered == """
        Error: The value 'png' is invalid for '--format <format>'. Please provide one of 'table', 'csv' or 'json'.
        Help:  --format <format>  Output format.
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    #expect(
      parseError(["run", "x", "--algorithm", "soba,sgd"])?.message
        == "The value 'sgd' is invalid for '--algorithm <names>'. Please provide one of 'soba', 'bome' or 'stocbio'.")
    #expect(
      parseError(["run", "x", "--algorithm", "soba,,bome"])?.message
        == "The value 'soba,,bome' is invalid for '--algorithm <names>': expected a comma-separated list")
  }

  @Test("other parse errors")
  func otherErrors() {
    #expect(parseError(["run", "x", "y"])?.message == "Unexpected argument 'y'")
    #expect(parseError(["run", "x", "y", "z"])?.message == "2 unexpected arguments: 'y', 'z'")
    #expect(
      parseError(["run", "x", "--quiet=yes"])?.message
        == "The option '--quiet' does not take any value, but 'yes' was specified.")
  }

  @Test("the first error in argument order is reported")
  func firstError() {
    #expect(parseError(["run", "--foo", "--bar"])?.message == "Unknown option '--foo'")
  }

  @Test(
    "every usage error exits with status 64",
    arguments: [["run"], ["run", "x", "--foo"], ["nope"], ["run", "x", "--data"], ["run", "x", "y"]])
  func usageExitCode(arguments: [String]) {
    #expect(parseError(arguments)?.exitCode == 64)
    #expect(parseError(arguments)?.isUsageError == true)
  }

  @Test("data, input and run failures have their own exit statuses and one-line messages")
  func otherExitCodes() {
    let noInput = CLIError.cannotOpen(path: "x.csv", reason: "No such file or directory")
    #expect(noInput.exitCode == 66)
    #expect(noInput.rendered == "Error: Cannot open 'x.csv': No such file or directory")
    let badData = CLIError.invalidData(path: "x.csv", reason: "line 3, column 2: non-numeric cell 'a'")
    #expect(badData.exitCode == 65)
    #expect(badData.rendered == "Error: Invalid data in 'x.csv': line 3, column 2: non-numeric cell 'a'")
    let failed = CLIError.runFailed("the inner solver diverged")
    #expect(failed.exitCode == 1)
    #expect(failed.rendered == "Error: the inner solver diverged")
    #expect(!failed.isUsageError)
  }

  // MARK: Values and typed accessors

  @Test("--name value and --name=value are the same")
  func equalsForm() throws {
    let spaced = try parsed(["run", "x", "--iterations", "7"])
    let joined = try parsed(["run", "x", "--iterations=7"])
    #expect(try spaced.int("iterations", range: 0...) == 7)
    #expect(try joined.int("iterations", range: 0...) == 7)
    #expect(try parsed(["run", "x", "--data=a=b.csv"]).string("data") == "a=b.csv")
  }

  @Test("defaults, flags and presence")
  func defaults() throws {
    let arguments = try parsed(["run", "quadratic"])
    #expect(arguments.commandPath == ["bilevel-cli", "run"])
    #expect(try arguments.string("task") == "quadratic")
    #expect(try arguments.int("iterations") == 100)
    #expect(try arguments.double("outer-step", positive: true) == 0.01)
    #expect(try arguments.list("algorithm") == ["soba"])
    #expect(try arguments.choice("format", from: ["table", "csv", "json"]) == "table")
    #expect(!arguments.flag("quiet"))
    #expect(!arguments.contains("iterations"))
    #expect(!arguments.contains("data"))
    #expect(accessorError { _ = try arguments.path("data") }?.message == "Missing expected argument '--data <path>'")
    let quiet = try parsed(["run", "--quiet", "quadratic", "--iterations", "3"])
    #expect(quiet.flag("quiet") && quiet.contains("iterations") && quiet.contains("task"))
  }

  @Test("lists split at commas, trim spaces, and accumulate over repeats")
  func lists() throws {
    let arguments = try parsed(["run", "x", "--algorithm", "soba, bome", "--algorithm", "stocbio"])
    #expect(try arguments.list("algorithm") == ["soba", "bome", "stocbio"])
    #expect(
      accessorError { _ = try arguments.list("algorithm", from: ["soba", "bome"]) }?.message
        == "The value 'stocbio' is invalid for '--algorithm <names>'. Please provide one of 'soba' and 'bome'.")
    let plot = try parsed(["plot", "a.json", "b.json", "--output", "p.svg"])
    #expect(try plot.list("traces") == ["a.json", "b.json"])
  }

  @Test("-- ends the options and negative numbers are values")
  func terminatorAndNegativeNumbers() throws {
    let arguments = try parsed(["run", "--outer-step", "-0.5", "--", "--quiet"])
    #expect(try arguments.string("task") == "--quiet")
    #expect(!arguments.flag("quiet"))
    #expect(try arguments.double("outer-step") == -0.5)
  }

  @Test("a later value replaces an earlier one")
  func lastValueWins() throws {
    #expect(try parsed(["run", "x", "--iterations", "1", "--iterations", "2"]).int("iterations") == 2)
  }

  @Test("integer accessors say what they expected")
  func integerErrors() throws {
    let bad = try parsed(["run", "x", "--iterations", "x"])
    #expect(
      accessorError { _ = try bad.int("iterations", range: 0...) }?.rendered == """
        Error: The value 'x' is invalid for '--iterations <n>': expected a non-negative integer
        Help:  --iterations <n>  Number of outer iterations.
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    let negative = try parsed(["run", "x", "--iterations", "-3"])
    #expect(
      accessorError { _ = try negative.int("iterations", range: 0...) }?.message
        == "The value '-3' is invalid for '--iterations <n>': expected a non-negative integer")
    #expect(
      accessorError { _ = try negative.int("iterations", range: 1...) }?.message
        == "The value '-3' is invalid for '--iterations <n>': expected a positive integer")
    #expect(
      accessorError { _ = try negative.int("iterations", range: 1...10) }?.message
        == "The value '-3' is invalid for '--iterations <n>': expected an integer from 1 to 10")
    #expect(
      accessorError { _ = try bad.int("iterations") }?.message
        == "The value 'x' is invalid for '--iterations <n>': expected an integer")
    #expect(accessorError { _ = try bad.int("iterations") }?.exitCode == 64)
  }

  @Test("floating-point accessors reject non-finite and out-of-bounds values")
  func doubleErrors() throws {
    for (value, reason) in [
      ("0", "expected a positive number"), ("-1e-3", "expected a positive number"),
      ("abc", "expected a positive number"), ("inf", "expected a positive number"),
    ] {
      let arguments = try parsed(["run", "x", "--outer-step", value])
      #expect(
        accessorError { _ = try arguments.double("outer-step", positive: true) }?.message
          == "The value '\(value)' is invalid for '--outer-step <step>': \(reason)")
    }
    let nan = try parsed(["run", "x", "--outer-step", "nan"])
    #expect(
      accessorError { _ = try nan.double("outer-step") }?.message
        == "The value 'nan' is invalid for '--outer-step <step>': expected a finite number")
    let two = try parsed(["run", "x", "--outer-step", "2"])
    #expect(
      accessorError { _ = try two.double("outer-step", range: 0...1) }?.message
        == "The value '2' is invalid for '--outer-step <step>': expected a number from 0 to 1")
  }

  @Test("commands can report their own usage errors")
  func validationErrors() throws {
    let arguments = try parsed(["run", "x", "--algorithm", "soba,bome"])
    #expect(
      arguments.validationError("--data is required for this task").rendered == """
        Error: --data is required for this task
        Usage: \(runUsage)
          See 'bilevel-cli run --help' for more information.
        """)
    #expect(
      arguments.invalidValueError("iterations", reason: "expected at most 10 for this task").message
        == "The value '100' is invalid for '--iterations <n>': expected at most 10 for this task")
  }

  @Test("paths expand ~ and can be required to exist")
  func paths() throws {
    let arguments = try parsed(["run", "x", "--data", "/definitely/not/here.csv"])
    #expect(try arguments.path("data") == "/definitely/not/here.csv")
    let error = accessorError { _ = try arguments.path("data", mustExist: true) }
    #expect(error == .cannotOpen(path: "/definitely/not/here.csv", reason: "No such file or directory"))
    #expect(error?.exitCode == 66)
    let home = try parsed(["run", "x", "--data", "~/a.csv"])
    #expect(try !home.path("data").hasPrefix("~"))
  }
}
