import Autodiff

/// A ready-to-run task: the problem, its starting point, its evaluation and the step sizes
/// tuned for it, exactly what `bilevel-cli run TASK` runs.
///
/// Build one from `TaskCatalog` (`try TaskCatalog.instance(of: "hypercleaning")`), pick
/// an algorithm from `AlgorithmCatalog` with the task's steps, and run it with `run(_:seed:
/// stopping:evaluateEvery:)` or with `solve` directly:
/// ```swift
/// let task = try TaskCatalog.instance(of: "pl-game")
/// let result = try task.run("soba", stopping: StoppingRule(maxIterations: 200))
/// ```
public struct TaskInstance {
  /// The catalog name, e.g. "hypercleaning".
  public var name: String
  /// The bilevel problem, on flat tensors.
  public var problem: BilevelProblem
  /// The starting outer variable.
  public var x0: Tensor
  /// The starting inner variable.
  public var y0: Tensor
  /// The evaluation recorded in traces: F, ‖∇F‖ and the task's metrics at (x, y).
  public var evaluator: (Tensor, Tensor) -> Evaluation
  /// The inner step of algorithms without a tuned entry in `tunedSteps`.
  public var innerStep: Double
  /// The outer step of algorithms without a tuned entry in `tunedSteps`.
  public var outerStep: Double
  /// The mini-batch size of stochastic algorithms; nil: the task is not a finite sum.
  public var batchSize: Int?
  /// The number of inner and outer samples, when the task is a finite sum.
  public var sampleCounts: (inner: Int, outer: Int)?
  /// The exact ∇F, when the task has a closed form.
  public var exactHypergradient: ((Tensor) -> Tensor)?
  /// Reference results to compare with (e.g. a classifier trained on clean labels).
  public var baselines: [Baseline]
  /// The names of the task metrics its evaluation records.
  public var metrics: [String]
  /// Inner and outer steps (and a batch size) tuned for this task, by algorithm name
  /// (measured with `bilevel-cli run TASK --algorithm A --inner-step s --outer-step t`
  /// sweeps; see Docs/Algorithms.md); other algorithms use `innerStep` and `outerStep`.
  public var tunedSteps: [String: StepTuning]
  /// The set x must stay in (projected and Frank-Wolfe methods).
  public var constraint: ConstraintSet
  /// The inner Hessian as a diagonal plus a low-rank term, where the task has that form.
  public var woodbury: ((Tensor, Tensor) -> WoodburyStructure)?
  /// L, the Lipschitz constant of the hypergradient, where the task knows it (Frank-Wolfe
  /// short steps).
  public var smoothness: Double?

  /// A task instance; every field is documented on its property.
  public init(
    name: String, problem: BilevelProblem, x0: Tensor, y0: Tensor, evaluator: @escaping (Tensor, Tensor) -> Evaluation,
    innerStep: Double, outerStep: Double, batchSize: Int? = nil, sampleCounts: (inner: Int, outer: Int)? = nil,
    exactHypergradient: ((Tensor) -> Tensor)? = nil, baselines: [Baseline] = [], metrics: [String] = [],
    tunedSteps: [String: StepTuning] = [:], constraint: ConstraintSet = .unconstrained,
    woodbury: ((Tensor, Tensor) -> WoodburyStructure)? = nil, smoothness: Double? = nil
  ) {
    self.name = name
    self.problem = problem
    self.x0 = x0
    self.y0 = y0
    self.evaluator = evaluator
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.batchSize = batchSize
    self.sampleCounts = sampleCounts
    self.exactHypergradient = exactHypergradient
    self.baselines = baselines
    self.metrics = metrics
    self.tunedSteps = tunedSteps
    self.constraint = constraint
    self.woodbury = woodbury
    self.smoothness = smoothness
  }

  /// The steps an algorithm runs with on this task: its tuned entry, else the task's.
  ///
  /// - Parameter algorithm: an `AlgorithmCatalog` name.
  /// - Returns: inner step, outer step and batch size (nil: full batch).
  public func steps(for algorithm: String) -> StepTuning {
    let tuned = tunedSteps[algorithm]
    return StepTuning(
      inner: tuned?.inner ?? innerStep, outer: tuned?.outer ?? outerStep,
      batchSize: batchSize.map { tuned?.batchSize ?? $0 })
  }

  /// Runs a catalog algorithm on this task with the task's steps and the catalog's
  /// defaults, as `bilevel-cli run` does.
  ///
  /// - Parameters:
  ///   - algorithm: an `AlgorithmCatalog` name.
  ///   - seed: the samplers' seed.
  ///   - stopping: when to stop.
  ///   - evaluateEvery: record the trace every this many iterations.
  /// - Returns: the run's result.
  /// - Throws: `AlgorithmCatalog.Unsupported` when the algorithm cannot run on this task
  ///   (an unknown name, a dense method on a large y, a constraint it needs).
  public func run(
    _ algorithm: String, seed: UInt64 = 0, stopping: StoppingRule = StoppingRule(), evaluateEvery: Int = 10
  ) throws(AlgorithmCatalog.Unsupported) -> SolveResult<Tensor, Tensor> {
    let configured = try AlgorithmCatalog.algorithm(algorithm, for: self, seed: seed)
    var result = solve(
      problem, x0: x0, y0: y0, algorithm: configured, stopping: stopping, evaluateEvery: evaluateEvery,
      evaluator: evaluator)
    result.trace.algorithm = algorithm
    return result
  }
}

/// Step sizes (and a batch size) for one algorithm on one task.
public struct StepTuning: Sendable, Equatable, ExpressibleByArrayLiteral {
  /// The inner step (ρ, β or λ in the papers).
  public var inner: Double
  /// The outer step (α, γ or ξ).
  public var outer: Double
  /// The mini-batch size; nil: the task's.
  public var batchSize: Int?

  /// Steps and an optional batch size.
  public init(inner: Double, outer: Double, batchSize: Int? = nil) {
    self.inner = inner
    self.outer = outer
    self.batchSize = batchSize
  }

  /// `[inner, outer]` or `[inner, outer, batch size]`.
  public init(arrayLiteral values: Double...) {
    self.init(inner: values[0], outer: values[1], batchSize: values.count > 2 ? Int(values[2]) : nil)
  }
}

/// A reference result shown beside a task's runs, e.g. a classifier trained on clean labels.
public struct Baseline: Sendable {
  /// What was computed, e.g. "trained on clean labels".
  public var label: String
  /// Its measured values, in order, e.g. [("test accuracy", 0.949)].
  public var values: [(name: String, value: Double)]

  /// A baseline with its label and values.
  public init(label: String, values: [(name: String, value: Double)]) {
    self.label = label
    self.values = values
  }
}
