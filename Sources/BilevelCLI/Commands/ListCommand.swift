import BilevelAD

/// `bilevel-cli list`: tasks, algorithms and hypergradient methods with their parameters.
enum ListCommand {
  static func run(console: Console) {
    var tasks = TextTable(
      title: "Tasks", columns: [.init("task", alignment: .left), .init("description", alignment: .left)])
    for entry in TaskCatalog.entries { tasks.append([entry.name, entry.summary]) }
    var algorithms = TextTable(
      title: "Algorithms",
      columns: [
        .init("algorithm", alignment: .left), .init("kind", alignment: .left), .init("description", alignment: .left),
      ])
    for entry in AlgorithmCatalog.entries {
      algorithms.append([entry.name, entry.stochastic ? "stochastic" : "deterministic", entry.summary])
      algorithms.append(["", "", "parameters: " + entry.parameters])
    }
    var methods = TextTable(
      title: "Hypergradient methods",
      columns: [.init("method", alignment: .left), .init("description", alignment: .left)])
    for method in HypergradientMethod.allCases { methods.append([method.rawValue, method.summary]) }
    console.output([tasks.rendered(), algorithms.rendered(), methods.rendered()].joined(separator: "\n\n") + "\n")
  }
}
