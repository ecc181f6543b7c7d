import Autodiff
import BilevelAD
import Foundation

/// The main demo: the catalog's hyper-cleaning task (bundled UCI digits) with the
/// catalog's AID-BIO, compared with classifiers trained on clean and on corrupted labels:
/// the same run as `bilevel-cli run hypercleaning --algorithm aid-bio`, evaluated without
/// the costly ‖∇F‖.
enum DemoCommand {
  static func run(console: Console, iterations: Int) throws(CLIError) {
    let progress = ProgressLine(isEnabled: console.errorIsTerminal, output: console.error)
    progress.update("loading the bundled digits and training the reference classifiers…")
    let (instance, task): (TaskInstance, HyperCleaning)
    do {
      (instance, task) = try TaskCatalog.hyperCleaning(TaskOptions(evaluateHypergradient: false))
    } catch {
      throw CLIError.invalidData(path: "digits.csv (bundled)", reason: error.description)
    }
    let result: SolveResult<Tensor, Tensor>
    do {
      result = try instance.run(
        "aid-bio", stopping: StoppingRule(maxIterations: iterations), evaluateEvery: max(1, iterations / 8))
    } catch {
      throw CLIError.runFailed(error.description)
    }
    progress.finish()
    let last = result.trace.records.last!
    let weights = sigmoid(result.x).scalars
    let corruptedSet = Set(task.corrupted)
    let meanCorrupted = task.corrupted.map { weights[$0] }.reduce(0, +) / Double(max(task.corrupted.count, 1))
    let cleanIndices = weights.indices.filter { !corruptedSet.contains($0) }
    let meanClean = cleanIndices.map { weights[$0] }.reduce(0, +) / Double(max(cleanIndices.count, 1))

    var table = TextTable(
      title: "Data hyper-cleaning, UCI digits: \(task.train.sampleCount) training samples, 50 % of labels corrupted",
      columns: [
        TextTable.Column("classifier", alignment: .left), TextTable.Column("test accuracy"),
        TextTable.Column("time (s)"), TextTable.Column("oracle calls"),
      ])
    for baseline in instance.baselines {
      let accuracy = baseline.values.first { $0.name == "test accuracy" }?.value ?? .nan
      let reference = baseline.label.contains("clean") ? " (reference)" : ""
      table.append([baseline.label + reference, String(format: "%.3f", accuracy), "", ""])
    }
    table.append([
      "cleaned by aid-bio (\(last.iteration) iterations)",
      String(format: "%.3f", last.metrics["test accuracy"] ?? .nan),
      String(format: "%.2f", last.time), "\(last.counts.total)",
    ])
    console.output(table.rendered() + "\n")
    console.output(
      String(
        format: "Mean learned weight σ(λ): %.3f on corrupted samples, %.3f on clean ones.\n", meanCorrupted, meanClean))
    console.output("Try 'bilevel-cli run hypercleaning --algorithm aid-bio,saba,soba' or 'bilevel-cli --help'.\n")
  }
}
