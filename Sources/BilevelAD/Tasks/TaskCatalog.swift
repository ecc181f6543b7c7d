import Autodiff

/// What shapes a catalog task instance.
public struct TaskOptions: Sendable {
  /// The seed of the data split, the initial point and the generated data.
  public var seed: UInt64
  /// A dataset replacing the bundled one (hypercleaning, hypercleaning-mlp, hyperparam);
  /// nil: the bundled data.
  public var data: Dataset?
  /// The fraction of corrupted training labels (hypercleaning, hypercleaning-mlp).
  public var corruption: Double
  /// Hidden units of the tanh network (hypercleaning-mlp).
  public var hidden: Int
  /// d for pl-game (rank d − 2) and matrix-sensing; nil: the task's default (50 and 10).
  public var dimension: Int?
  /// Whether evaluations compute ‖∇F‖ (an implicit solve: costly on the learning tasks).
  public var evaluateHypergradient: Bool

  /// Options with the command line's defaults.
  public init(
    seed: UInt64 = 0, data: Dataset? = nil, corruption: Double = 0.5, hidden: Int = 16, dimension: Int? = nil,
    evaluateHypergradient: Bool = true
  ) {
    self.dimension = dimension
    self.seed = seed
    self.data = data
    self.corruption = corruption
    self.hidden = hidden
    self.evaluateHypergradient = evaluateHypergradient
  }
}

/// Why a catalog task could not be built.
public enum TaskError: Error, Sendable, CustomStringConvertible {
  /// No task has this name.
  case unknownTask(String, known: [String])
  /// The data does not suit the task (too few samples, wrong labels); the reason says how.
  case invalidData(String)

  /// The message, naming the problem.
  public var description: String {
    switch self {
    case .unknownTask(let name, let known):
      return "no task is called '\(name)'; the tasks are \(known.joined(separator: ", "))"
    case .invalidData(let reason): return reason
    }
  }
}

/// The package's tasks with their defaults: the table `bilevel-cli run` reads, so that a
/// library user runs exactly what the command line runs.
public enum TaskCatalog {
  /// One task of the catalog.
  public struct Entry: Sendable {
    /// The name, as on the command line.
    public let name: String
    /// One line on what the task is.
    public let summary: String
    /// The bundled dataset the task reads when `TaskOptions.data` is nil; nil: the task
    /// generates its data and takes no dataset.
    public let bundledData: BundledDataset?
    /// Whether the task reads `TaskOptions.corruption`.
    public let readsCorruption: Bool
    /// Whether the task reads `TaskOptions.hidden`.
    public let readsHidden: Bool
    /// Whether the task reads `TaskOptions.dimension`.
    public var readsDimension: Bool { name == "pl-game" || name == "matrix-sensing" }
    /// Builds the instance.
    public let make: @Sendable (TaskOptions) throws(TaskError) -> TaskInstance
  }

  /// The task names, in catalog order.
  public static var names: [String] { entries.map(\.name) }

  /// The entry called `name`, if any.
  public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

  /// The instance of the task called `name`.
  ///
  /// - Parameters:
  ///   - name: a catalog name.
  ///   - options: seed, data and task parameters.
  /// - Returns: the instance, with the command line's defaults.
  /// - Throws: `TaskError` for an unknown name or data the task cannot use.
  public static func instance(of name: String, options: TaskOptions = TaskOptions()) throws(TaskError) -> TaskInstance {
    guard let entry = entry(name) else { throw TaskError.unknownTask(name, known: names) }
    return try entry.make(options)
  }

  /// The options' dataset, or the bundled one.
  private static func dataset(_ options: TaskOptions, bundled: BundledDataset) throws(TaskError) -> Dataset {
    if let data = options.data { return data }
    do {
      return try Dataset.bundled(bundled)
    } catch {
      throw TaskError.invalidData("the bundled \(bundled.rawValue) data: \(error.description)")
    }
  }

  private static func requireSamples(_ data: Dataset, _ count: Int) throws(TaskError) {
    guard data.sampleCount >= count else {
      throw TaskError.invalidData("needs at least \(count) samples, got \(data.sampleCount)")
    }
  }

  /// The "hypercleaning" task with the `HyperCleaning` value behind it (its split, its
  /// corrupted indices, its accuracy), for a program that reports more than the trace.
  ///
  /// - Parameter options: seed, data and corruption.
  /// - Returns: the catalog instance and the task it was built from.
  /// - Throws: `TaskError.invalidData` when the data has fewer than 8 samples.
  public static func hyperCleaning(
    _ options: TaskOptions = TaskOptions()
  ) throws(TaskError) -> (instance: TaskInstance, task: HyperCleaning) {
    let data = try dataset(options, bundled: .digits)
    try requireSamples(data, 8)
    let task = HyperCleaning(data: data, corruption: options.corruption, regularization: 1e-3, seed: options.seed)
    let clean = task.fitClassifier(cleanLabels: true)
    let corrupted = task.fitClassifier()
    let instance = TaskInstance(
      name: "hypercleaning", problem: task.problem, x0: Tensor.zeros(task.outerShape), y0: corrupted.theta,
      evaluator: task.evaluator(exactHypergradient: options.evaluateHypergradient),
      innerStep: 0.5, outerStep: 1000, batchSize: 64,
      sampleCounts: (task.train.sampleCount, task.validation.sampleCount),
      baselines: [
        Baseline(label: "trained on clean labels", values: [("test accuracy", task.testAccuracy(clean.theta))]),
        Baseline(label: "trained on corrupted labels", values: [("test accuracy", task.testAccuracy(corrupted.theta))]),
      ],
      metrics: ["test accuracy"],
      tunedSteps: [
        "bome": [0.5, 10000], "soba": [0.5, 10000], "saba": [0.5, 100], "srba": [0.5, 100], "f2sa": [0.5, 300, 400],
        "f2sa-adam": [0.02, 0.02], "stocbio": [0.5, 100], "amigo": [0.5, 100], "pzobo": [0.5, 100],
      ])
    return (instance, task)
  }

  /// Per-feature L2 selection on synthetic binary data of a given shape (the scaling tasks).
  private static func syntheticSelection(
    _ name: String, samples: Int, features: Int, split: (train: Int, validation: Int), dataSeed: UInt64,
    options: TaskOptions
  ) -> TaskInstance {
    let data = Dataset.synthetic(samples: samples, features: features, classes: 2, seed: dataSeed)
    let task = HyperparameterSelection(
      data: data, trainSize: split.train, validationSize: split.validation, seed: options.seed)
    return TaskInstance(
      name: name, problem: task.problem, x0: Tensor(shape: task.outerShape, repeating: -2),
      y0: Tensor.zeros(task.innerShape), evaluator: task.evaluator(), innerStep: 0.5, outerStep: 10, batchSize: 64,
      sampleCounts: (task.train.sampleCount, task.validation.sampleCount), metrics: ["test loss", "test accuracy"])
  }

  /// The catalog.
  public static let entries: [Entry] = [
    Entry(
      name: "quadratic", summary: "Quadratic bilevel problem with a closed-form hypergradient (d = 20, condition 10).",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      let task = QuadraticBilevel(innerDimension: 20, conditionNumber: 10, seed: options.seed)
      return TaskInstance(
        name: "quadratic", problem: task.problem, x0: Tensor(randomNormal: [20], seed: options.seed &+ 100),
        y0: Tensor.zeros([20]),
        evaluator: { x, _ in
          Evaluation(outerValue: task.outerValue(at: x), hypergradientNorm: task.hypergradient(at: x).norm().scalar)
        },
        innerStep: 0.1, outerStep: 0.3, exactHypergradient: task.hypergradient(at:),
        // f2sa's x step is ξ α_k = outer step / (k + 1) (swept 0.3 to 30: 0.3 leaves ‖∇F‖ = 0.86
        // after 1000 iterations, 10 reaches 3e-4, 30 diverges).
        tunedSteps: [
          "bome": [0.05, 0.05], "v-pbgd": [0.05, 0.05], "f2sa-adam": [0.02, 0.02], "saba": [0.1, 0.1],
          "srba": [0.1, 0.1], "k-rmd": [0.1, 0.1],
          // HJFBiO's box takes x, y and v at the same point (a Jacobi sweep): at outer step
          // 0.3 it diverges; 0.1, 0.15, 0.2 reach 1.1e-3, 5.2e-5, 2.6e-5 in 500 iterations.
          "hjfbio": [0.1, 0.2], "f2sa": [0.1, 10],
        ])
    },
    Entry(
      name: "quadratic-sum",
      summary: "The benchopt benchmark's finite-sum quadratic (n = m = 1024, d = 100), exact hypergradient.",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      let task = QuadraticFiniteSum(
        innerSamples: 1024, outerSamples: 1024, innerDimension: 100, outerDimension: 100, seed: options.seed &+ 2442)
      return TaskInstance(
        name: "quadratic-sum", problem: task.problem, x0: Tensor(shape: [100], repeating: -2), y0: Tensor.zeros([100]),
        evaluator: task.evaluator(), innerStep: 0.2, outerStep: 0.02, batchSize: 64, sampleCounts: (1024, 1024),
        exactHypergradient: task.hypergradient(at:))
    },
    Entry(
      name: "hypercleaning",
      summary: "Data hyper-cleaning on the bundled UCI digits (or --data), 50 % of training labels corrupted.",
      bundledData: .digits, readsCorruption: true, readsHidden: false
    ) { (options: TaskOptions) throws(TaskError) in try hyperCleaning(options).instance },
    Entry(
      name: "hypercleaning-mlp",
      summary:
        "Data hyper-cleaning with a one-hidden-layer tanh network (--hidden units, 16 by default) as the inner model: y is a TanhMLP structure.",
      bundledData: .digits, readsCorruption: true, readsHidden: true
    ) { (options: TaskOptions) throws(TaskError) in
      let data = try dataset(options, bundled: .digits)
      try requireSamples(data, 8)
      let task = HyperCleaningMLP(
        data: data, hidden: options.hidden, corruption: options.corruption, seed: options.seed)
      let clean = task.fitNetwork(cleanLabels: true)
      let corrupted = task.fitNetwork()
      let lambda0 = Tensor.zeros(task.linear.outerShape)
      // The algorithms run on the flat scalars of the network (see BilevelProblem.flattened).
      let flat = task.problem.flattened(x: lambda0, y: corrupted.network)
      let evaluate = task.evaluator(exactHypergradient: options.evaluateHypergradient)
      return TaskInstance(
        name: "hypercleaning-mlp", problem: flat.problem, x0: flat.x, y0: flat.y,
        evaluator: { lambda, theta in evaluate(lambda, flat.structuredY(theta)) },
        innerStep: 0.5, outerStep: 100, batchSize: 64,
        sampleCounts: (task.linear.train.sampleCount, task.linear.validation.sampleCount),
        baselines: [
          Baseline(
            label: "network trained on clean labels", values: [("test accuracy", task.testAccuracy(clean.network))]),
          Baseline(
            label: "network trained on corrupted labels",
            values: [("test accuracy", task.testAccuracy(corrupted.network))]),
        ],
        metrics: ["test accuracy"],
        tunedSteps: [
          "bome": [0.5, 10000], "soba": [0.5, 10000], "f2sa": [0.5, 300, 400], "f2sa-adam": [0.02, 0.02],
        ])
    },
    Entry(
      name: "hyperparam",
      summary: "One L2 weight per feature for logistic regression on the bundled breast-cancer data (or --data).",
      bundledData: .breastCancer, readsCorruption: false, readsHidden: false
    ) { (options: TaskOptions) throws(TaskError) in
      let data = try dataset(options, bundled: .breastCancer)
      guard data.classCount == 2 else {
        throw TaskError.invalidData("hyperparam needs binary labels 0 and 1, found \(data.classCount) classes")
      }
      try requireSamples(data, 8)
      let task = HyperparameterSelection(data: data, seed: options.seed)
      let grid = task.gridSearch()
      let (gridLoss, gridAccuracy) = task.lossAndAccuracy(grid.theta, on: task.test)
      return TaskInstance(
        name: "hyperparam", problem: task.problem, x0: Tensor(shape: task.outerShape, repeating: -2),
        y0: Tensor.zeros(task.innerShape), evaluator: task.evaluator(), innerStep: 0.5, outerStep: 10, batchSize: 64,
        sampleCounts: (task.train.sampleCount, task.validation.sampleCount),
        baselines: [
          Baseline(
            label: "grid search, one shared λ (\(grid.innerSolves) inner solves)",
            values: [
              ("validation loss", grid.validationLoss), ("test loss", gridLoss), ("test accuracy", gridAccuracy),
            ])
        ],
        metrics: ["test loss", "test accuracy"],
        woodbury: { lambda, theta in task.woodburyStructure(lambda: lambda, theta: theta) })
    },
    Entry(
      name: "pl-game", summary: "Bilevel Polyak-Łojasiewicz game (d = 50, rank 48), exact hypergradient.",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      let d = options.dimension ?? 50
      let game = PLGame(dimension: d, rank: d - 2, seed: options.seed)
      return TaskInstance(
        name: "pl-game", problem: game.problem, x0: Tensor(randomNormal: [d], seed: options.seed &+ 1),
        y0: Tensor.zeros([d]), evaluator: game.evaluator(), innerStep: 0.5, outerStep: 0.3,
        exactHypergradient: game.hypergradient(at:),
        // f2sa's x step is ξ α_k = outer step / (k + 1) (swept 0.05 to 300: 0.05 stalls at
        // ‖∇F‖ = 3.6 after 200 iterations, 10 to 50 reach 5e-5 to 6e-7, 100 diverges).
        tunedSteps: ["hjfbio": [1, 0.3], "mgbio": [1, 0.3], "f2sa": [1, 20]])
    },
    Entry(
      name: "matrix-sensing", summary: "Hyper-representation learning in matrix sensing (d = 10, rank 3).",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      let task = MatrixSensing(dimension: options.dimension ?? 10, seed: options.seed)
      return TaskInstance(
        name: "matrix-sensing", problem: task.problem,
        x0: Tensor(randomNormal: task.outerShape, seed: options.seed &+ 1) * 0.5,
        y0: Tensor(randomNormal: task.innerShape, seed: options.seed &+ 2) * 0.5,
        evaluator: task.evaluator(exact: options.evaluateHypergradient),
        innerStep: 0.1, outerStep: 0.1, metrics: ["recovery error", "validation loss", "training loss"],
        // MGBiO's μ = 0.1 turns the nonconvex start's small curvatures into a 10× larger
        // direction: at outer step 0.1 it diverges within 10 iterations.
        tunedSteps: ["mgbio": [0.1, 0.02]])
    },
    Entry(
      name: "coreset",
      summary:
        "BOME's coreset toy: the closest point of a convex hull, softmax weights; the seed picks the start (0–2: the official code's three).",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      let toy = CoresetToy()
      // The lower variable starts where the official code's three runs start
      // (Cranial-XIX/BOME, toy/toy_convergence.py: (0, 3), (−3, 1), (3.5, −1)) for seeds
      // 0, 1, 2, and at 2·N(0, I) for later seeds; the weights start at zero.
      let starts: [Tensor] = [[0, 3], [-3, 1], [3.5, -1]]
      let y0 = options.seed < 3 ? starts[Int(options.seed)] : 2 * Tensor(randomNormal: [2], seed: options.seed)
      return TaskInstance(
        name: "coreset", problem: toy.problem, x0: Tensor.zeros([4]), y0: y0, evaluator: toy.evaluator(),
        innerStep: 0.05, outerStep: 0.05, metrics: ["hull point distance"])
    },
    Entry(
      name: "ijcnn1-synthetic",
      summary: "Scaling: hyperparam's per-feature L2 task on synthetic data of ijcnn1's shape (49990 x 22).",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      syntheticSelection(
        "ijcnn1-synthetic", samples: 49_990, features: 22, split: (24_995, 12_497), dataSeed: options.seed &+ 7,
        options: options)
    },
    Entry(
      name: "covtype-synthetic",
      summary: "Scaling: per-feature L2 selection on synthetic data of covtype's width (100000 x 54, subsampled).",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { options in
      syntheticSelection(
        "covtype-synthetic", samples: 100_000, features: 54, split: (60_000, 20_000), dataSeed: options.seed &+ 8,
        options: options)
    },
    Entry(
      name: "mnist-synthetic",
      summary:
        "Scaling: hyper-cleaning on synthetic data of MNIST's shape (60000 x 784, 10 classes; 20000 train, 5000 validation).",
      bundledData: nil, readsCorruption: true, readsHidden: false
    ) { options in
      let data = Dataset.synthetic(samples: 60_000, features: 784, classes: 10, seed: options.seed &+ 9)
      let task = HyperCleaning(
        data: data, trainSize: 20_000, validationSize: 5_000, corruption: options.corruption, regularization: 1e-3,
        seed: options.seed)
      return TaskInstance(
        name: "mnist-synthetic", problem: task.problem, x0: Tensor.zeros(task.outerShape),
        y0: Tensor.zeros(task.innerShape), evaluator: task.evaluator(exactHypergradient: false), innerStep: 0.1,
        outerStep: 1000, batchSize: 64, sampleCounts: (task.train.sampleCount, task.validation.sampleCount),
        metrics: ["test accuracy"])
    },
    Entry(
      name: "coreset-simplex",
      summary: "The coreset toy with the weights on the simplex: constrained x, attainable solution.",
      bundledData: nil, readsCorruption: false, readsHidden: false
    ) { _ in
      let toy = CoresetToy()
      return TaskInstance(
        name: "coreset-simplex", problem: toy.simplexProblem, x0: Tensor(shape: [4], repeating: 0.25), y0: [0, 3],
        evaluator: toy.simplexEvaluator(), innerStep: 0.2, outerStep: 0.05, metrics: ["hull point distance"],
        // g's Hessian in θ is 2I: a step of 1/2 solves the inner problem in one step.
        tunedSteps: ["sbfw-pairwise": [0.5, 0.05]], constraint: .simplex, smoothness: toy.simplexSmoothness)
    },
  ]
}
