import BilevelAD

/// The commands, options and help texts of `bilevel-cli`.
enum CommandTree {
  static let runOptions: [OptionSpec] = [
    .option(
      "algorithm", valueName: "names", help: "Algorithms to run one after the other, separated by commas.",
      default: "aid-bio", values: AlgorithmCatalog.names, isList: true),
    .option("iterations", valueName: "n", help: "Outer iterations per algorithm.", default: "200"),
    .option(
      "time-limit", valueName: "seconds",
      help:
        "Stop after this many seconds of wall-clock time for the whole command, evaluations included (the last iterate is then recorded unevaluated)."
    ),
    .option("oracle-budget", valueName: "n", help: "Stop each algorithm after this many oracle calls."),
    .option("tolerance", valueName: "value", help: "Stop once the evaluated hypergradient norm is this small."),
    .option("seed", valueName: "n", help: "Seed of the data split, the initial point and the samplers.", default: "0"),
    .option("batch-size", valueName: "n", help: "Mini-batch size of stochastic algorithms (default: the task's)."),
    .option(
      "neumann-truncation", valueName: "kind",
      help:
        "How BSA, TTSA, MRBO, SUSTAIN, MSTSA, ALSET and SBFW truncate their Neumann series: a random depth as in the papers, or every term (deterministic with full batches).",
      default: "randomized", values: ["randomized", "expected"]),
    .option("inner-step", valueName: "step", help: "Inner step size (default: the task's)."),
    .option("outer-step", valueName: "step", help: "Outer step size (default: the task's)."),
    .option("inner-steps", valueName: "n", help: "Inner steps per outer iteration (default: the algorithm's)."),
    .option("evaluate-every", valueName: "n", help: "Record the trace every n iterations.", default: "10"),
    .option(
      "corruption", valueName: "fraction",
      help: "Fraction of corrupted training labels (hypercleaning, hypercleaning-mlp).", default: "0.5"),
    .option("hidden", valueName: "n", help: "Hidden units of the tanh network (hypercleaning-mlp).", default: "16"),
    .option(
      "dimension", valueName: "d",
      help:
        "d for pl-game (50 by default; the seed's figure uses 100 and 200, with rank d − 2) and matrix-sensing (10 by default; the seed uses 100 and 200)."
    ),
    .option(
      "data", valueName: "path", help: "A CSV file (numeric columns, integer label last) replacing the bundled data."),
    .option("data-limit", valueName: "MiB", help: "The largest --data file read, in MiB.", default: "256"),
    .flag("header", help: "The --data file's first row is a header (default: a header when every cell is text)."),
    .flag("no-header", help: "The --data file's first row is data."),
    .option("csv", valueName: "path", help: "Write the traces as CSV ('-' for standard output)."),
    .option("json", valueName: "path", help: "Write the traces as JSON ('-' for standard output)."),
    .option("plot", valueName: "path", help: "Write convergence curves as SVG."),
    .option(
      "plot-x", valueName: "axis", help: "The plot's x axis.", default: "iteration",
      values: ["iteration", "time", "oracle-calls"]),
    .option(
      "plot-metric", valueName: "name",
      help:
        "The plotted quantity: hypergradient-norm, outer-value or a task metric such as 'test accuracy' (default: the hypergradient norm)."
    ),
    .option(
      "plot-dir", valueName: "path",
      help:
        "Write every curve (hypergradient norm, F(x), task metrics against iterations, time and oracle calls) as SVG files in this directory."
    ),
    .option(
      "seeds", valueName: "n",
      help:
        "Runs per algorithm with seeds seed, seed+1, ..., each on its own draw of the task (data split or generated data, initial point) and of the samplers; tables show medians, plots medians and 20–80 % bands.",
      default: "1"),
    .flag(
      "iterate-metrics-only",
      help:
        "Evaluations record only the task's metrics at the iterate, such as matrix-sensing's validation loss f(x, y): no inner solve for F(x) and ‖∇F(x)‖ (where that solve dominates the run)."
    ),
    .flag("quiet", help: "Print only the results table."),
  ]

  static let run = CommandSpec(
    name: "run", abstract: "Run algorithms on a task and compare them in one table.",
    discussion:
      "Tasks: \(TaskRegistry.names.joined(separator: ", ")). See 'bilevel-cli list' for the algorithms and their parameters.",
    arguments: [PositionalSpec("task", help: "The task: \(TaskRegistry.names.joined(separator: ", ")).")],
    options: runOptions)

  static let hypergradient = CommandSpec(
    name: "hypergradient", abstract: "Estimate a hypergradient and compare it with the task's best reference.",
    arguments: [PositionalSpec("task", help: "The task: \(TaskRegistry.names.joined(separator: ", ")).")],
    options: [
      .option(
        "method", valueName: "method", help: "The estimator.", default: "implicit-cg",
        values: HypergradientCommand.methods),
      .option(
        "steps", valueName: "n", help: "Inner steps of unrolled methods, terms of the Neumann series.", default: "100"),
      .option("seed", valueName: "n", help: "Seed of the task and the initial point.", default: "0"),
      .option("data", valueName: "path", help: "A CSV file replacing the bundled data (hyperparam, hypercleaning)."),
    ])

  static let hvp = CommandSpec(
    name: "hvp",
    abstract: "Check that the three HVP modes and the dense Hessian agree, and time them against the gradient.",
    options: [
      .option(
        "function", valueName: "name", help: "The test function.", default: "logistic", values: HVPCommand.functions),
      .option(
        "size", valueName: "n", help: "The number of parameters (logistic: features; mlp: hidden units).", default: "50"
      ),
      .option("repeats", valueName: "n", help: "Timed repetitions per mode (the median is shown).", default: "20"),
    ])

  static let bench = CommandSpec(
    name: "bench", abstract: "Benchmark gradients, HVPs, matrix multiply, tape overhead and hypergradients.",
    discussion: "Build with 'swift run -c release bilevel-cli bench': debug timings are meaningless.",
    options: [
      .option("json", valueName: "path", help: "Also write the table as JSON."),
      .option("repeats", valueName: "n", help: "Timed repetitions per case (medians are shown).", default: "15"),
      .option(
        "minimum-time", valueName: "ms",
        help:
          "Time a fast case more than --repeats times, until its runs add up to this many milliseconds (at most 1000 runs).",
        default: "25"),
      .flag("quick", help: "Only the small cases."),
      .option(
        "kernels", valueName: "path",
        help: "The kernel path: this CPU's widest by default (also set by AUTODIFF_KERNELS).",
        values: KernelPath.allCases.map(\.description)),
    ])

  static let plot = CommandSpec(
    name: "plot", abstract: "Draw convergence curves from trace files written by 'run --json'.",
    discussion:
      "Traces of one algorithm (a run with --seeds labels them 'name (seed k)') form one curve: the median with a 20–80 % band. Runs made separately share one figure this way.",
    arguments: [
      PositionalSpec("traces", help: "JSON trace files written by 'bilevel-cli run --json'.", isRepeating: true)
    ],
    options: [
      .option("output", valueName: "path", help: "The SVG file to write.", isRequired: true),
      .option(
        "metric", valueName: "name",
        help:
          "The plotted quantity: hypergradient-norm, outer-value or a metric the traces record (default: the hypergradient norm where recorded)."
      ),
      .option(
        "x", valueName: "axis", help: "The x axis.", default: "iteration",
        values: ["iteration", "time", "oracle-calls"]),
      .option("title", valueName: "text", help: "The figure's title (the task's name, say).", default: "traces"),
    ])

  static let demo = CommandSpec(
    name: "demo", abstract: "Data hyper-cleaning on the bundled digits (what 'bilevel-cli' alone runs).",
    options: [.option("iterations", valueName: "n", help: "Outer iterations.", default: "400")])

  static let list = CommandSpec(
    name: "list", abstract: "List tasks, algorithms, hypergradient methods and their parameters.")

  static let root = CommandSpec(
    name: "bilevel-cli", abstract: "Bilevel optimization with automatic differentiation, in Swift.",
    discussion: "With no arguments, runs the main demo: data hyper-cleaning on the bundled UCI digits.",
    version: BilevelCommandLine.version,
    subcommands: [run, plot, hypergradient, hvp, bench, list, demo])
}
