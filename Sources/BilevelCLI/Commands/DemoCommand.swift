import Autodiff
import BilevelAD
import Foundation

/// The main demo: data hyper-cleaning on the bundled UCI digits with AID-BIO, compared
/// with classifiers trained on clean and on corrupted labels.
enum DemoCommand {
  static func run(console: Console, iterations: Int) throws(CLIError) {
    let progress = ProgressLine(isEnabled: console.errorIsTerminal, output: console.error)
    progress.update("loading the bundled digits…")
    let data = try TaskRegistry.loadDataset(nil, bundled: .digits)
    let task = HyperCleaning(data: data, corruption: 0.5, regularization: 1e-3, seed: 0)
    progress.update("training the reference classifiers…")
    let clean = task.fitClassifier(cleanLabels: true)
    let corrupted = task.fitClassifier()
    let algorithm = AIDBIO(outerStepSize: 1000, innerStepSize: 0.5, innerSteps: 10)
    let result = solve(
      task.problem, x0: Tensor.zeros(task.outerShape), y0: corrupted.theta, algorithm: algorithm,
      stopping: StoppingRule(maxIterations: iterations), evaluateEvery: max(1, iterations / 8),
      evaluator: task.evaluator(exactHypergradient: false)
    ) { record in
      let accuracy = record.metrics["test accuracy"].map { String(format: "%.3f", $0) } ?? "–"
      progress.update("aid-bio: iteration \(record.iteration)/\(iterations), test accuracy \(accuracy)")
      return true
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
    table.append([
      "trained on clean labels (reference)", String(format: "%.3f", task.testAccuracy(clean.theta)), "", "",
    ])
    table.append(["trained on corrupted labels", String(format: "%.3f", task.testAccuracy(corrupted.theta)), "", ""])
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
