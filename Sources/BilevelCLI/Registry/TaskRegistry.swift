import Autodiff
import BilevelAD

/// Options that shape a task instance.
struct TaskOptions: Sendable {
  var seed: UInt64 = 0
  /// A user CSV file replacing the bundled data (hyperparam, hypercleaning).
  var dataPath: String?
  /// The fraction of corrupted training labels (hypercleaning).
  var corruption: Double = 0.5
  /// Hidden units of the tanh network (hypercleaning-mlp).
  var hidden: Int = 16
  /// The largest --data file read, in bytes.
  var maximumDataBytes = CSVReader.defaultMaximumBytes
  /// Whether the --data file has a header row; nil detects it.
  var header: Bool? = nil
  /// Whether evaluations compute ‖∇F‖ (costly on the learning tasks).
  var evaluateHypergradient = true
}

/// A ready-to-run task: problem, starting point, evaluation and sensible step sizes.
struct TaskInstance {
  var problem: BilevelProblem
  var x0: Tensor
  var y0: Tensor
  var evaluator: (Tensor, Tensor) -> Evaluation
  /// Default inner and outer steps for this task's scale.
  var innerStep: Double
  var outerStep: Double
  /// Default mini-batch size for stochastic algorithms (nil: full batch).
  var batchSize: Int?
  /// The number of inner and outer samples, when the task is a finite sum.
  var sampleCounts: (inner: Int, outer: Int)?
  /// The exact ∇F, when the task has a closed form.
  var exactHypergradient: ((Tensor) -> Tensor)?
  /// Reference rows for the results table, e.g. ("clean-label model", "test accuracy 0.949").
  var baselines: [(label: String, value: String)] = []
  /// Task metrics worth a column in the table.
  var metrics: [String] = []
  /// Inner and outer steps tuned for this task, by algorithm (measured with
  /// `bilevel-cli run TASK --algorithm A --inner-step s --outer-step t` sweeps; see
  /// Docs/Algorithms.md); other algorithms use `innerStep` and `outerStep`.
  var tunedSteps: [String: Tuning] = [:]
  /// The set x must stay in (projected and Frank-Wolfe methods).
  var constraint: ConstraintSet = .unconstrained
  /// The inner Hessian as a diagonal plus a low-rank term, where the task has that form.
  var woodbury: ((Tensor, Tensor) -> WoodburyStructure)? = nil
  /// L, the Lipschitz constant of the hypergradient, where the task knows it (Frank-Wolfe
  /// short steps).
  var smoothness: Double? = nil
}

/// Step sizes (and a batch size) tuned for one algorithm on one task.
struct Tuning: ExpressibleByArrayLiteral {
  var inner: Double
  var outer: Double
  var batchSize: Int?

  init(inner: Double, outer: Double, batchSize: Int? = nil) {
    self.inner = inner
    self.outer = outer
    self.batchSize = batchSize
  }

  /// `[inner, outer]` or `[inner, outer, batch size]`.
  init(arrayLiteral values: Double...) {
    self.init(inner: values[0], outer: values[1], batchSize: values.count > 2 ? Int(values[2]) : nil)
  }
}

/// A task the command line can run.
struct TaskEntry: Sendable {
  let name: String
  let summary: String
  let make: @Sendable (TaskOptions) throws(CLIError) -> TaskInstance
}

enum TaskRegistry {
  /// The tasks that read --data.
  static let dataTasks = ["hypercleaning", "hypercleaning-mlp", "hyperparam"]
  /// The tasks that read --corruption.
  static let corruptionTasks = ["hypercleaning", "hypercleaning-mlp"]

  static let entries: [TaskEntry] = [
    TaskEntry(
      name: "quadratic", summary: "Quadratic bilevel problem with a closed-form hypergradient (d = 20, condition 10)."
    ) { options in
      let task = QuadraticBilevel(innerDimension: 20, conditionNumber: 10, seed: options.seed)
      return TaskInstance(
        problem: task.problem, x0: Tensor(randomNormal: [20], seed: options.seed &+ 100), y0: Tensor.zeros([20]),
        evaluator: { x, _ in
          Evaluation(outerValue: task.outerValue(at: x), hypergradientNorm: task.hypergradient(at: x).norm().scalar)
        },
        innerStep: 0.1, outerStep: 0.3, batchSize: nil, exactHypergradient: task.hypergradient(at:),
        tunedSteps: [
          "bome": [0.05, 0.05], "v-pbgd": [0.05, 0.05], "f2sa-adam": [0.02, 0.02], "saba": [0.1, 0.1],
          "srba": [0.1, 0.1], "k-rmd": [0.1, 0.1],
        ])
    },
    TaskEntry(
      name: "quadratic-sum",
      summary: "The benchopt benchmark's finite-sum quadratic (n = m = 1024, d = 100), exact hypergradient."
    ) { options in
      let task = QuadraticFiniteSum(
        innerSamples: 1024, outerSamples: 1024, innerDimension: 100, outerDimension: 100, seed: options.seed &+ 2442)
      return TaskInstance(
        problem: task.problem, x0: Tensor(shape: [100], repeating: -2), y0: Tensor.zeros([100]),
        evaluator: task.evaluator(), innerStep: 0.2, outerStep: 0.02, batchSize: 64, sampleCounts: (1024, 1024),
        exactHypergradient: task.hypergradient(at:))
    },
    TaskEntry(
      name: "hypercleaning",
      summary: "Data hyper-cleaning on the bundled UCI digits (or --data), 50 % of training labels corrupted."
    ) { (options: TaskOptions) throws(CLIError) in
      let data = try loadDataset(
        options.dataPath, bundled: .digits, maximumBytes: options.maximumDataBytes, header: options.header)
      guard data.sampleCount >= 8 else {
        throw CLIError.invalidData(
          path: options.dataPath ?? "digits.csv", reason: "needs at least 8 samples, got \(data.sampleCount)")
      }
      let task = HyperCleaning(data: data, corruption: options.corruption, regularization: 1e-3, seed: options.seed)
      let clean = task.fitClassifier(cleanLabels: true)
      let corrupted = task.fitClassifier()
      return TaskInstance(
        problem: task.problem, x0: Tensor.zeros(task.outerShape), y0: corrupted.theta,
        evaluator: task.evaluator(exactHypergradient: options.evaluateHypergradient),
        innerStep: 0.5, outerStep: 1000, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount),
        baselines: [
          ("trained on clean labels", "test accuracy \(format(task.testAccuracy(clean.theta)))"),
          ("trained on corrupted labels", "test accuracy \(format(task.testAccuracy(corrupted.theta)))"),
        ],
        metrics: ["test accuracy"],
        tunedSteps: [
          "bome": [0.5, 10000], "soba": [0.5, 10000], "saba": [0.5, 100], "srba": [0.5, 100], "f2sa": [0.5, 300, 400],
          "f2sa-adam": [0.02, 0.02], "stocbio": [0.5, 100], "amigo": [0.5, 100], "pzobo": [0.5, 100],
        ])
    },
    TaskEntry(
      name: "hypercleaning-mlp",
      summary:
        "Data hyper-cleaning with a one-hidden-layer tanh network (--hidden units, 16 by default) as the inner model: y is a TanhMLP structure."
    ) { (options: TaskOptions) throws(CLIError) in
      let data = try loadDataset(
        options.dataPath, bundled: .digits, maximumBytes: options.maximumDataBytes, header: options.header)
      guard data.sampleCount >= 8 else {
        throw CLIError.invalidData(
          path: options.dataPath ?? "digits.csv", reason: "needs at least 8 samples, got \(data.sampleCount)")
      }
      let task = HyperCleaningMLP(
        data: data, hidden: options.hidden, corruption: options.corruption, seed: options.seed)
      let clean = task.fitNetwork(cleanLabels: true)
      let corrupted = task.fitNetwork()
      let lambda0 = Tensor.zeros(task.linear.outerShape)
      // The algorithms run on the flat scalars of the network (see BilevelProblem.flattened).
      let flat = task.problem.flattened(x: lambda0, y: corrupted.network)
      let evaluate = task.evaluator(exactHypergradient: options.evaluateHypergradient)
      return TaskInstance(
        problem: flat.problem, x0: flat.x, y0: flat.y,
        evaluator: { lambda, theta in evaluate(lambda, flat.structuredY(theta)) },
        innerStep: 0.5, outerStep: 100, batchSize: 64,
        sampleCounts: (task.linear.train.sampleCount, task.linear.validation.sampleCount),
        baselines: [
          ("network trained on clean labels", "test accuracy \(format(task.testAccuracy(clean.network)))"),
          ("network trained on corrupted labels", "test accuracy \(format(task.testAccuracy(corrupted.network)))"),
        ],
        metrics: ["test accuracy"],
        tunedSteps: [
          "bome": [0.5, 10000], "soba": [0.5, 10000], "f2sa": [0.5, 300, 400], "f2sa-adam": [0.02, 0.02],
        ])
    },
    TaskEntry(
      name: "hyperparam",
      summary: "One L2 weight per feature for logistic regression on the bundled breast-cancer data (or --data)."
    ) { (options: TaskOptions) throws(CLIError) in
      let data = try loadDataset(
        options.dataPath, bundled: .breastCancer, maximumBytes: options.maximumDataBytes, header: options.header)
      guard data.classCount == 2 else {
        throw CLIError.invalidData(
          path: options.dataPath ?? "breast_cancer.csv",
          reason: "hyperparam needs binary labels 0 and 1, found \(data.classCount) classes")
      }
      guard data.sampleCount >= 8 else {
        throw CLIError.invalidData(
          path: options.dataPath ?? "breast_cancer.csv", reason: "needs at least 8 samples, got \(data.sampleCount)")
      }
      let task = HyperparameterSelection(data: data, seed: options.seed)
      let grid = task.gridSearch()
      let (gridLoss, gridAccuracy) = task.lossAndAccuracy(grid.theta, on: task.test)
      return TaskInstance(
        problem: task.problem, x0: Tensor(shape: task.outerShape, repeating: -2), y0: Tensor.zeros(task.innerShape),
        evaluator: task.evaluator(), innerStep: 0.5, outerStep: 10, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount),
        baselines: [
          (
            "grid search, one shared λ (\(grid.innerSolves) inner solves)",
            "validation loss \(format(grid.validationLoss)), test loss \(format(gridLoss)), test accuracy \(format(gridAccuracy))"
          )
        ],
        metrics: ["test loss", "test accuracy"],
        woodbury: { lambda, theta in task.woodburyStructure(lambda: lambda, theta: theta) })
    },
    TaskEntry(name: "pl-game", summary: "Bilevel Polyak-Łojasiewicz game (d = 50, rank 48), exact hypergradient.") {
      options in
      let game = PLGame(seed: options.seed)
      return TaskInstance(
        problem: game.problem, x0: Tensor(randomNormal: [50], seed: options.seed &+ 1), y0: Tensor.zeros([50]),
        evaluator: game.evaluator(), innerStep: 0.5, outerStep: 0.3, batchSize: nil,
        exactHypergradient: game.hypergradient(at:),
        tunedSteps: ["hjfbio": [1, 0.3], "mgbio": [1, 0.3], "f2sa": [1, 0.05]])
    },
    TaskEntry(name: "matrix-sensing", summary: "Hyper-representation learning in matrix sensing (d = 10, rank 3).") {
      options in
      let task = MatrixSensing(seed: options.seed)
      return TaskInstance(
        problem: task.problem, x0: Tensor(randomNormal: task.outerShape, seed: options.seed &+ 1) * 0.5,
        y0: Tensor(randomNormal: task.innerShape, seed: options.seed &+ 2) * 0.5, evaluator: task.evaluator(),
        innerStep: 0.05, outerStep: 0.05, batchSize: nil, metrics: ["recovery error"])
    },
    TaskEntry(name: "coreset", summary: "BOME's coreset toy: the closest point of a convex hull, softmax weights.") {
      options in
      let toy = CoresetToy()
      return TaskInstance(
        problem: toy.problem, x0: Tensor.zeros([4]), y0: [0, 3], evaluator: toy.evaluator(), innerStep: 0.05,
        outerStep: 0.05, batchSize: nil, metrics: ["hull point distance"])
    },
    TaskEntry(
      name: "ijcnn1-synthetic",
      summary: "Scaling: hyperparam's per-feature L2 task on synthetic data of ijcnn1's shape (49990 x 22)."
    ) { options in
      let data = Dataset.synthetic(samples: 49_990, features: 22, classes: 2, seed: options.seed &+ 7)
      let task = HyperparameterSelection(data: data, trainSize: 24_995, validationSize: 12_497, seed: options.seed)
      return TaskInstance(
        problem: task.problem, x0: Tensor(shape: task.outerShape, repeating: -2), y0: Tensor.zeros(task.innerShape),
        evaluator: task.evaluator(), innerStep: 0.5, outerStep: 10, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount), metrics: ["test loss", "test accuracy"])
    },
    TaskEntry(
      name: "covtype-synthetic",
      summary: "Scaling: per-feature L2 selection on synthetic data of covtype's width (100000 x 54, subsampled)."
    ) { options in
      let data = Dataset.synthetic(samples: 100_000, features: 54, classes: 2, seed: options.seed &+ 8)
      let task = HyperparameterSelection(data: data, trainSize: 60_000, validationSize: 20_000, seed: options.seed)
      return TaskInstance(
        problem: task.problem, x0: Tensor(shape: task.outerShape, repeating: -2), y0: Tensor.zeros(task.innerShape),
        evaluator: task.evaluator(), innerStep: 0.5, outerStep: 10, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount), metrics: ["test loss", "test accuracy"])
    },
    TaskEntry(
      name: "mnist-synthetic",
      summary:
        "Scaling: hyper-cleaning on synthetic data of MNIST's shape (60000 x 784, 10 classes; 20000 train, 5000 validation)."
    ) { options in
      let data = Dataset.synthetic(samples: 60_000, features: 784, classes: 10, seed: options.seed &+ 9)
      let task = HyperCleaning(
        data: data, trainSize: 20_000, validationSize: 5_000, corruption: options.corruption, regularization: 1e-3,
        seed: options.seed)
      return TaskInstance(
        problem: task.problem, x0: Tensor.zeros(task.outerShape), y0: Tensor.zeros(task.innerShape),
        evaluator: task.evaluator(exactHypergradient: false), innerStep: 0.1, outerStep: 1000, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount), metrics: ["test accuracy"])
    },
    TaskEntry(
      name: "coreset-simplex",
      summary: "The coreset toy with the weights on the simplex: constrained x, attainable solution."
    ) { _ in
      let toy = CoresetToy()
      var instance = TaskInstance(
        problem: toy.simplexProblem, x0: Tensor(shape: [4], repeating: 0.25), y0: [0, 3],
        evaluator: toy.simplexEvaluator(),
        innerStep: 0.2, outerStep: 0.05, batchSize: nil, metrics: ["hull point distance"], constraint: .simplex)
      instance.smoothness = toy.simplexSmoothness
      // g's Hessian in θ is 2I: a step of 1/2 solves the inner problem in one step.
      instance.tunedSteps = ["sbfw-pairwise": [0.5, 0.05]]
      return instance
    },
  ]

  static var names: [String] { entries.map(\.name) }

  static func entry(_ name: String) -> TaskEntry? { entries.first { $0.name == name } }

  static func loadDataset(
    _ path: String?, bundled: BundledDataset, maximumBytes: Int = CSVReader.defaultMaximumBytes, header: Bool? = nil
  ) throws(CLIError) -> Dataset {
    let data: Dataset
    do {
      if let path {
        data = try Dataset.load(csv: path, maximumBytes: maximumBytes, header: header)
      } else {
        return try Dataset.bundled(bundled)
      }
    } catch {
      if case .cannotOpen(let file, let reason) = error { throw CLIError.cannotOpen(path: file, reason: reason) }
      var reason = error.description
      // A first row with numeric and text cells is read as data; a header with numeric
      // names (pandas' '0,1,...,label') needs --header.
      if case .nonNumeric = error, error.line == 1, header == nil {
        reason += " (if line 1 is a header, pass --header)"
      }
      if case .tooLarge = error { reason += "; raise the limit with --data-limit" }
      throw CLIError.invalidData(path: path ?? "\(bundled.rawValue) (bundled)", reason: reason)
    }
    // Finite but huge features overflow when standardized and surface later as a NaN that
    // looks like a bad step size: name the column now.
    let (mean, deviation) = data.featureStatistics()
    let means = mean.scalars
    let deviations = deviation.scalars
    if let column = means.indices.first(where: { !means[$0].isFinite || !deviations[$0].isFinite }) {
      throw CLIError.invalidData(
        path: path ?? "",
        reason:
          "column \(column + 1): the values are too large to standardize (their mean or variance overflows a Double)")
    }
    return data
  }

  static func format(_ value: Double) -> String { TextTable.format(value, significantDigits: 4) }
}
