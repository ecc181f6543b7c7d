// libFuzzer target for the command-line parser (Sources/BilevelCLI/Arguments/).
// Build and run with `Fuzz/run.sh ArgumentParserFuzz 60`.
//
// The input's first line becomes a command's discussion (to exercise help wrapping); the
// rest, split at NUL bytes and line breaks, becomes the arguments. Checks, beyond "no
// crash": every error renders as `Error: ...` with exit status 64 and, for usage errors, a
// usage line; every help text starts with `OVERVIEW:` or `USAGE:`; every typed accessor
// either returns or throws a `CLIError`.

private func makeTool(discussion: String) -> CommandSpec {
  let run = CommandSpec(
    name: "run",
    abstract: "Run one task with one or more algorithms.",
    discussion: discussion,
    arguments: [PositionalSpec("task", help: "The task to run.")],
    options: [
      .option(
        "algorithm", valueName: "names", help: "Algorithms to compare.", default: "soba",
        values: ["soba", "bome", "stocbio"], isList: true),
      .option("iterations", valueName: "n", help: "Number of outer iterations.", default: "100"),
      .option("outer-step", valueName: "step", help: "Outer learning rate.", default: "0.01"),
      .option("seeds", valueName: "list", help: "Seeds.", default: "1,2", isList: true),
      .option("data", valueName: "path", help: "A CSV file."),
      .option(
        "format", valueName: "format", help: "Output format.", default: "table", values: ["table", "csv", "json"]),
      .flag("quiet", help: "Print only the final table."),
    ])
  let plot = CommandSpec(
    name: "plot", abstract: discussion,
    arguments: [
      PositionalSpec("trace", help: "A trace."),
      PositionalSpec("more", help: "More traces.", isOptional: true, isRepeating: true),
    ],
    options: [.option("output", valueName: "path", help: "The SVG file.", isRequired: true)])
  return CommandSpec(
    name: "bilevel-cli", abstract: "Bilevel optimization.", version: "0.0.0",
    subcommands: [run, plot])
}

private func check(_ error: CLIError) {
  let rendered = error.rendered
  precondition(rendered.hasPrefix("Error: "))
  precondition(error.exitCode == 64 || error.exitCode == 66)
  if error.isUsageError {
    precondition(rendered.contains("\nUsage: bilevel-cli"))
    precondition(rendered.hasSuffix("for more information."))
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
  let discussion = String(lines.first ?? "")
  let arguments =
    lines.count > 1
    ? lines[1].split(omittingEmptySubsequences: false) { $0 == "\0" || $0 == "\n" || $0 == "\r\n" }.map(String.init)
    : []
  let tool = makeTool(discussion: discussion)

  do {
    switch try tool.parse(arguments) {
    case .help(let help):
      precondition(help.hasPrefix("OVERVIEW:") || help.hasPrefix("USAGE:"))
    case .version(let version):
      precondition(version == "0.0.0")
    case .run(let parsed):
      if parsed.commandPath == ["bilevel-cli", "run"] {
        do { _ = try parsed.string("task") } catch { check(error) }
        do { _ = try parsed.int("iterations", range: 0...) } catch { check(error) }
        do { _ = try parsed.int("iterations", range: 1...10) } catch { check(error) }
        do { _ = try parsed.double("outer-step", positive: true) } catch { check(error) }
        do { _ = try parsed.double("outer-step", range: -1...1) } catch { check(error) }
        do { _ = try parsed.list("algorithm", from: ["soba", "bome"]) } catch { check(error) }
        do { _ = try parsed.list("seeds") } catch { check(error) }
        do { _ = try parsed.choice("format", from: ["table", "csv"]) } catch { check(error) }
        do { _ = try parsed.path("data") } catch { check(error) }
        _ = parsed.flag("quiet")
        _ = parsed.contains("data")
        check(parsed.validationError(discussion))
        check(parsed.invalidValueError("iterations", reason: discussion))
      } else {
        precondition(parsed.commandPath == ["bilevel-cli", "plot"])
        do { _ = try parsed.list("more") } catch { check(error) }
        do { _ = try parsed.path("output") } catch { check(error) }
      }
    }
  } catch {
    check(error)
  }
  _ = tool.helpText(forSubcommand: ["run"])
  _ = tool.helpText(forSubcommand: ["plot"])
  return 0
}
