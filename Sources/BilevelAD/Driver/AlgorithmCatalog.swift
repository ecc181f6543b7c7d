import Autodiff

/// The knobs of a catalog algorithm: the steps and sizes the command line sets, with the
/// task's defaults (`AlgorithmOptions(task:algorithm:seed:)`).
public struct AlgorithmOptions: Sendable {
  /// The inner step (ρ, β or λ in the papers).
  public var innerStep: Double
  /// The outer step (α, γ or ξ).
  public var outerStep: Double
  /// T, the inner iterations per outer iteration, when the algorithm has an inner loop;
  /// nil: the algorithm's default.
  public var innerIterations: Int?
  /// Mini-batch size (nil: full batch).
  public var batchSize: Int?
  /// The seed of the samplers.
  public var seed: UInt64
  /// dim y, for algorithms that refuse large inner variables.
  public var innerDimension: Int
  /// dim x, likewise.
  public var outerDimension: Int
  /// The task's constraint set on x (projected and Frank-Wolfe methods use it).
  public var constraint: ConstraintSet
  /// How the randomized-Neumann algorithms truncate the series.
  public var neumannTruncation: NeumannTruncation
  /// The task's hypergradient Lipschitz constant, where known.
  public var smoothness: Double?

  /// Options given one by one; `init(task:algorithm:seed:)` takes them from a task.
  public init(
    innerStep: Double, outerStep: Double, innerIterations: Int? = nil, batchSize: Int? = nil, seed: UInt64 = 0,
    innerDimension: Int, outerDimension: Int = 0, constraint: ConstraintSet = .unconstrained,
    neumannTruncation: NeumannTruncation = .randomized, smoothness: Double? = nil
  ) {
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.innerIterations = innerIterations
    self.batchSize = batchSize
    self.seed = seed
    self.innerDimension = innerDimension
    self.outerDimension = outerDimension
    self.constraint = constraint
    self.neumannTruncation = neumannTruncation
    self.smoothness = smoothness
  }

  /// The options `bilevel-cli run` uses for `algorithm` on `task`: the task's tuned steps
  /// and batch size, its sizes, constraint and smoothness.
  ///
  /// - Parameters:
  ///   - task: the task instance.
  ///   - algorithm: an `AlgorithmCatalog` name (for its tuned steps).
  ///   - seed: the samplers' seed.
  public init(task: TaskInstance, algorithm: String, seed: UInt64 = 0) {
    let steps = task.steps(for: algorithm)
    self.init(
      innerStep: steps.inner, outerStep: steps.outer, batchSize: steps.batchSize, seed: seed,
      innerDimension: task.y0.scalarCount, outerDimension: task.x0.scalarCount, constraint: task.constraint,
      smoothness: task.smoothness)
  }

  /// The stochastic settings these options describe.
  public var settings: StochasticSettings {
    StochasticSettings(batchSize: batchSize, seed: seed, neumannTruncation: neumannTruncation)
  }
  /// ρ / γ, the benchmark's outer ratio.
  public var outerRatio: Double { innerStep / outerStep }
}

/// The package's algorithms with the defaults `bilevel-cli run` gives them, as functions
/// of the task's steps: the table the command line reads, public so that a library user
/// runs exactly what the command line runs.
public enum AlgorithmCatalog {
  /// One algorithm of the catalog.
  public struct Entry: Sendable {
    /// The name, as on the command line.
    public let name: String
    /// One line on what the algorithm is, with its reference.
    public let summary: String
    /// Its parameters and their defaults, in words.
    public let parameters: String
    /// Whether it samples mini-batches.
    public let stochastic: Bool
    /// Builds the algorithm from options.
    public let make: @Sendable (AlgorithmOptions) throws(Unsupported) -> any BilevelAlgorithm
  }

  /// Why an algorithm cannot run with the options given (a size limit, a constraint it
  /// needs, an unknown name); the message names the problem and what to do.
  public struct Unsupported: Error, Sendable, CustomStringConvertible {
    /// The message.
    public var description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
  }

  /// The algorithm names, in catalog order.
  public static var names: [String] { entries.map(\.name) }

  /// The entry called `name`, if any.
  public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

  /// The algorithm called `name`, configured for `task` as `bilevel-cli run` configures it.
  ///
  /// - Parameters:
  ///   - name: a catalog name.
  ///   - task: the task whose steps, sizes and constraint it takes.
  ///   - seed: the samplers' seed.
  /// - Returns: the configured algorithm.
  /// - Throws: `Unsupported` for an unknown name or a task the algorithm cannot run on.
  public static func algorithm(
    _ name: String, for task: TaskInstance, seed: UInt64 = 0
  ) throws(Unsupported) -> any BilevelAlgorithm {
    guard let entry = entry(name) else {
      throw Unsupported("no algorithm is called '\(name)'; the algorithms are \(names.joined(separator: ", "))")
    }
    return try entry.make(AlgorithmOptions(task: task, algorithm: name, seed: seed))
  }

  /// The options' settings with the slides' batch size on a finite-sum task (full batches
  /// stay full).
  private static func slidesSettings(_ o: AlgorithmOptions, batchSize: Int) -> StochasticSettings {
    var settings = o.settings
    if settings.batchSize != nil { settings.batchSize = batchSize }
    return settings
  }

  /// The catalog.
  public static let entries: [Entry] = [
    Entry(
      name: "aid-bio", summary: "Approximate implicit differentiation, warm-started CG (Ji, Yang, Liang ICML 2021).",
      parameters: "outer step α, inner step β, inner steps T = 10, CG iterations 10", stochastic: false
    ) { o in AIDBIO(outerStep: o.outerStep, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10) },
    Entry(
      name: "itd-bio", summary: "Iterative differentiation through T inner steps (Ji, Yang, Liang ICML 2021).",
      parameters: "outer step α, inner step β, inner steps T = 10", stochastic: false
    ) { o in ITDBIO(outerStep: o.outerStep, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10) },
    Entry(
      name: "k-rmd", summary: "Truncated back-propagation through the last K of T steps (Shaban et al. AISTATS 2019).",
      parameters: "outer step α, inner step β, inner steps T = 20, truncation K = 5", stochastic: false
    ) { o in
      KRMD(
        outerStep: o.outerStep, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 20, truncatedIterations: 5
      )
    },
    Entry(
      name: "bome", summary: "Value-function constraint with a dynamic barrier (Liu, Ye et al. NeurIPS 2022).",
      parameters: "joint step ξ = inner step (x: outer step), inner steps T = 10, η = 0.5", stochastic: false
    ) { o in
      BOME(
        jointStep: o.innerStep, outerRatio: o.outerRatio, innerStep: o.innerStep,
        innerIterations: o.innerIterations ?? 10)
    },
    Entry(
      name: "v-pbgd", summary: "Gradient descent on the value-function penalty f + γ(g − g*) (Shen, Chen ICML 2023).",
      parameters: "step α = inner step / γ, γ = 10, inner step β, inner steps T = 10", stochastic: false
    ) { o in VPBGD(jointStep: o.innerStep / 10, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10) },
    Entry(
      name: "f2sa", summary: "Fully first-order Lagrangian method with growing multiplier (Kwon et al. ICML 2023).",
      parameters:
        "z step γ = inner step; x step ξ α_k with ξ = outer step / inner step (x step = outer step at k = 0); full-batch tasks: y step α_k on f + λ_k g with λ_k = k + 1, α_k = γ/(k+1); finite sums: y step γ on f/λ_k + g (scaledPenalty), λ += 0.1/(k+1)^{1/7} (the benchmark's); λ₀ = 1, T = 10",
      stochastic: true
    ) { o in
      // Full batches: λ_k = k + 1 and α_k = γ / (k + 1), so that α_k λ_k = γ (a y step on
      // f + λ_k g that stays stable as λ grows); the x step ξ α_k decays with α_k.
      // Finite sums: the benchmark's slowly growing λ with a constant α, which the seed's
      // y step on f + λ_k g does not survive (it diverged on quadratic-sum at iteration 250
      // and left hyperparam's inner problem unsolvable, measured), so y steps on
      // f/λ_k + g (`scaledPenalty`, the deviation its doc comment describes).
      let fullBatch = o.batchSize == nil
      return F2SA(
        penalizedStep: fullBatch ? .decreasing(o.innerStep, exponent: 1) : .constant(o.innerStep),
        innerStep: .constant(o.innerStep), stepRatio: o.outerStep / o.innerStep,
        multiplierIncrement: fullBatch ? .constant(1) : .decreasing(0.1, exponent: 1.0 / 7),
        innerIterations: o.innerIterations ?? 10, scaledPenalty: !fullBatch, settings: o.settings)
    },
    Entry(
      name: "f2sa-adam", summary: "F2SA with Adam on x, y and z (moments reset for y, z each iteration).",
      parameters:
        "Adam rates: y and z 0.02, x 0.005 unless --inner-step/--outer-step; λ += 0.01; T = 30; β = (0.9, 0.999)",
      stochastic: true
    ) { o in
      F2SAAdam(
        penalizedStep: .constant(o.innerStep), innerStep: .constant(o.innerStep),
        stepRatio: o.outerStep / o.innerStep, multiplierIncrement: .constant(0.01),
        innerIterations: o.innerIterations ?? 30, adam: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
        settings: o.settings)
    },
    Entry(
      name: "f2sa-slides-mnist",
      summary:
        "F2SA with the slides' selected MNIST hyper-cleaning parameters (seeds/002, its table of selected parameters).",
      parameters:
        "{γ_k, α_k} = 0.05, ξ = 1, δ_k = 0.1, batch 64 (T = 10, λ₀ = 1: not in the slides); ignores --inner-step and --outer-step",
      stochastic: true
    ) { o in
      F2SA(
        penalizedStep: .constant(0.05), innerStep: .constant(0.05), stepRatio: 1, multiplierIncrement: .constant(0.1),
        innerIterations: o.innerIterations ?? 10, settings: slidesSettings(o, batchSize: 64))
    },
    Entry(
      name: "f2sa-adam-slides-mnist",
      summary: "F2SA with Adam with the slides' selected MNIST hyper-cleaning parameters (seeds/002).",
      parameters:
        "{γ_k, α_k} = 0.0009, ξ = 5, δ_k = 0.1, β = (0.9, 0.99), batch 64 (T = 10); ignores --inner-step and --outer-step",
      stochastic: true
    ) { o in
      F2SAAdam(innerIterations: o.innerIterations ?? 10, settings: slidesSettings(o, batchSize: 64))
    },
    Entry(
      name: "f2sa-slides-ijcnn1",
      summary: "F2SA with the slides' selected ijcnn1 regularization-selection parameters (seeds/002).",
      parameters: "{γ_k, α_k} = 0.1, ξ = 1, δ_k = 0.1, batch 64 (T = 10); ignores --inner-step and --outer-step",
      stochastic: true
    ) { o in
      F2SA(
        penalizedStep: .constant(0.1), innerStep: .constant(0.1), stepRatio: 1, multiplierIncrement: .constant(0.1),
        innerIterations: o.innerIterations ?? 10, settings: slidesSettings(o, batchSize: 64))
    },
    Entry(
      name: "f2sa-adam-slides-ijcnn1",
      summary: "F2SA with Adam with the slides' selected ijcnn1 regularization-selection parameters (seeds/002).",
      parameters:
        "{γ_k, α_k} = 0.05, ξ = 1, δ_k = 0.1, β = (0.9, 0.85), batch 32 (T = 10); ignores --inner-step and --outer-step",
      stochastic: true
    ) { o in
      F2SAAdam(
        penalizedStep: .constant(0.05), innerStep: .constant(0.05), stepRatio: 1, multiplierIncrement: .constant(0.1),
        innerIterations: o.innerIterations ?? 10, adam: .adam(beta1: 0.9, beta2: 0.85, epsilon: 1e-8),
        settings: slidesSettings(o, batchSize: 32))
    },
    Entry(
      name: "hjfbio", summary: "Hessian/Jacobian-free single loop with finite differences (Huang ICML 2024).",
      parameters: "y and v steps = inner step, x step = outer step, δ_ε = 1e-5, r_v = r_h = 1e3", stochastic: false
    ) { o in HJFBiO(innerStep: o.innerStep, linearSystemStep: o.innerStep, outerStep: o.outerStep) },
    Entry(
      name: "mgbio", summary: "Momentum method with the Hessian's spectrum clipped to [μ, L] (Huang 2023).",
      parameters: "inner step λ, outer step γ, averaging η = 0.5, [μ, L_g] = [0.1, 1/λ]; dim y ≤ 500", stochastic: false
    ) { o throws(Unsupported) in
      guard o.innerDimension <= 500 else {
        throw Unsupported(
          "mgbio forms and decomposes the dense inner Hessian; it supports at most 500 inner variables, this task has \(o.innerDimension)"
        )
      }
      return MGBiO(innerStep: o.innerStep, outerStep: o.outerStep, spectrum: 0.1...max(1, 1 / o.innerStep))
    },
    Entry(
      name: "value-function",
      summary: "Penalty method on the relaxed value-function constraint g ≤ g*_μ (lecture 5-1).",
      parameters:
        "step α = inner step / 20, θ step = inner step, T = 10, g*_μ = min g + (μ₁/2)‖y‖² + μ₂ with μ₁ = 0.01, μ₂ = 1e-4, γ from 1 by 0.1 to 10",
      stochastic: false
    ) { o in
      ValueFunctionPenalty(
        jointStep: o.innerStep / 20, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10)
    },
    Entry(
      name: "galet", summary: "Generalized alternating method for PL inner problems (Xiao, Lu, Chen NeurIPS 2023).",
      parameters:
        "outer step α, inner step β, N = 10 inner steps, K = 10 steps on the shadow problem min ½‖H w − ∇_y f‖² (step 0.1 β)",
      stochastic: false
    ) { o in
      GALET(
        outerStep: o.outerStep, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10,
        shadowStep: 0.1 * o.innerStep)
    },
    Entry(
      name: "f2ba", summary: "Fully first-order bilevel approximation with a fixed multiplier (Chen, Ma, Zhang 2023).",
      parameters: "λ = 1000, inner step β, K = 10 inner steps, outer step α", stochastic: false
    ) { o in
      F2BA(multiplier: 1000, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10, outerStep: o.outerStep)
    },
    Entry(
      name: "prox-f2ba",
      summary: "F2BA with a projected (proximal) x step onto the task's constraint set (Kwon et al. 2023).",
      parameters: "as f2ba; x stays in the task's set (coreset-simplex: the simplex)", stochastic: false
    ) { o in
      ProxF2BA(
        constraint: o.constraint, multiplier: 1000, innerStep: o.innerStep, innerIterations: o.innerIterations ?? 10,
        outerStep: o.outerStep)
    },
    Entry(
      name: "slm", summary: "Smoothed first-order Lagrangian method on g − g* ≤ 0 (Lu NeurIPS 2023).",
      parameters: "primal step = inner step / 2, dual step 0.1, proximal weight 1, T = 10 inner steps",
      stochastic: false
    ) { o in SLM(jointStep: o.innerStep / 2, innerIterations: o.innerIterations ?? 10, innerStep: o.innerStep) },
    Entry(
      name: "soba", summary: "Joint stochastic steps on y, v and x (Dagréou et al. NeurIPS 2022).",
      parameters: "ρ_t = inner step / √(t+1), γ_t = ρ_t · outer step / inner step, batch 64", stochastic: true
    ) { o in SOBA(innerStep: .decreasing(o.innerStep, exponent: 0.5), outerRatio: o.outerRatio, settings: o.settings) },
    Entry(
      name: "saba", summary: "SOBA with SAGA variance reduction, constant steps (Dagréou et al. NeurIPS 2022).",
      parameters: "constant ρ = inner step, γ = outer step, batch 64 (memory per block)", stochastic: true
    ) { o in SABA(innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, settings: o.settings) },
    Entry(
      name: "srba", summary: "SARAH-type recursive directions with full-batch restarts (Dagréou et al. AISTATS 2024).",
      parameters: "constant ρ = inner step, γ = outer step, period half an epoch, batch 64", stochastic: true
    ) { o in SRBA(innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, settings: o.settings) },
    Entry(
      name: "stocbio", summary: "Warm-started inner SGD and a mini-batch Neumann series (Ji, Yang, Liang ICML 2021).",
      parameters: "inner and Neumann step = inner step, 10 inner steps, 10 Neumann terms, batch 64", stochastic: true
    ) { o in
      StocBiO(
        innerStep: .constant(o.innerStep), neumannStep: .constant(o.innerStep), outerRatio: o.outerRatio,
        innerIterations: o.innerIterations ?? 10, settings: o.settings)
    },
    Entry(
      name: "amigo", summary: "Amortized implicit gradient: warm-started y and v by SGD (Arbel, Mairal ICLR 2022).",
      parameters: "inner and linear-system step = inner step, 10 steps each, batch 64", stochastic: true
    ) { o in
      AmIGO(
        innerStep: .constant(o.innerStep), linearSystemStep: .constant(o.innerStep), outerRatio: o.outerRatio,
        innerIterations: o.innerIterations ?? 10, settings: o.settings)
    },
    Entry(
      name: "bsa",
      summary: "Bilevel stochastic approximation with a randomized Neumann estimator (Ghadimi, Wang 2018).",
      parameters: "inner step / √(t+1), 10 inner steps, Neumann depth uniform in 0..<10, batch 64", stochastic: true
    ) { o in
      BSA(
        innerStep: .decreasing(o.innerStep, exponent: 0.5), neumannStep: .constant(o.innerStep),
        outerRatio: o.outerRatio,
        innerIterations: o.innerIterations ?? 10, settings: o.settings)
    },
    Entry(
      name: "ttsa", summary: "Two-timescale stochastic approximation (Hong, Wai, Wang, Yang 2020).",
      parameters: "inner step / (t+1)^0.4, outer step / (t+1)^0.6, randomized Neumann, batch 64", stochastic: true
    ) { o in
      TTSA(
        innerStep: .decreasing(o.innerStep, exponent: 0.4), outerStep: .decreasing(o.innerStep, exponent: 0.6),
        outerRatio: o.outerRatio, neumannStep: .constant(o.innerStep), settings: o.settings)
    },
    Entry(
      name: "mrbo", summary: "Momentum-recursive (STORM) estimators on both levels (Yang, Ji, Liang NeurIPS 2021).",
      parameters: "inner step / (t+1)^{1/3}, momentum 0.5 / (t+1)^{2/3}, 10 Neumann terms, batch 64", stochastic: true
    ) { o in
      MRBO(
        innerStep: .decreasing(o.innerStep, exponent: 1.0 / 3), outerRatio: o.outerRatio,
        neumannStep: .constant(o.innerStep),
        settings: o.settings)
    },
    Entry(
      name: "vrbo", summary: "SPIDER/SARAH double loop with periodic large batches (Yang, Ji, Liang NeurIPS 2021).",
      parameters: "constant inner step, 10 inner steps, 10 Neumann terms, period half an epoch, batch 64",
      stochastic: true
    ) { o in
      VRBO(
        innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, neumannStep: .constant(o.innerStep),
        innerIterations: o.innerIterations ?? 10, settings: o.settings)
    },
    Entry(
      name: "sustain",
      summary: "Double-momentum single loop with a randomized Neumann estimator (Khanduri et al. NeurIPS 2021).",
      parameters: "inner step / (t+1)^{1/3}, momentum 0.5 / (t+1)^{2/3}, Neumann depth < 10, batch 64", stochastic: true
    ) { o in
      SUSTAIN(
        innerStep: .decreasing(o.innerStep, exponent: 1.0 / 3), outerRatio: o.outerRatio,
        neumannStep: .constant(o.innerStep),
        settings: o.settings)
    },
    Entry(
      name: "fsla",
      summary: "Fully single-loop: one step on y, on v and a momentum step on x (Li, Gu, Huang AAAI 2022).",
      parameters: "inner step / √(t+1), momentum 0.1 / √(t+1), batch 64", stochastic: true
    ) { o in FSLA(innerStep: .decreasing(o.innerStep, exponent: 0.5), outerRatio: o.outerRatio, settings: o.settings) },
    Entry(
      name: "pzobo",
      summary: "Zeroth-order Jacobian of the inner loop by Gaussian smoothing (Sow, Ji, Liang NeurIPS 2022).",
      parameters: "constant inner step, 10 inner steps, 10 directions, μ = 0.1, full batch", stochastic: false
    ) { o in
      PZOBO(
        innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, innerIterations: o.innerIterations ?? 10,
        settings: StochasticSettings(batchSize: nil, seed: o.seed))
    },
    Entry(
      name: "mstsa", summary: "Momentum-assisted single-timescale stochastic approximation (Khanduri et al. 2021).",
      parameters:
        "inner step / √(t+1), momentum 0.5/(t+1) on the hypergradient, randomized Neumann (depth < 10), batch 64",
      stochastic: true
    ) { o in
      MSTSA(
        innerStep: .decreasing(o.innerStep, exponent: 0.5), outerRatio: o.outerRatio,
        neumannStep: .constant(o.innerStep), settings: o.settings)
    },
    Entry(
      name: "alset",
      summary: "Alternating stochastic gradient with a Neumann hypergradient (Chen, Sun, Yin NeurIPS 2021).",
      parameters: "inner step / √(t+1), one inner step, Neumann depth < 10, batch 64", stochastic: true
    ) { o throws(Unsupported) in
      guard (o.innerIterations ?? 1) >= 1 else {
        throw Unsupported("alset needs at least one inner iteration per outer iteration, got 0")
      }
      return ALSET(
        innerStep: .decreasing(o.innerStep, exponent: 0.5), outerRatio: o.outerRatio,
        innerIterations: o.innerIterations ?? 1,
        neumannStep: .constant(o.innerStep), settings: o.settings)
    },
    Entry(
      name: "stable",
      summary:
        "Single-timescale method with running Hessian and Jacobian estimates (Chen, Sun, Xiao, Yin AISTATS 2022).",
      parameters: "inner step / √(t+1), momentum 0.5/√(t+1), Hessian clipped below at 0.1; dim x, dim y ≤ 200",
      stochastic: true
    ) { o throws(Unsupported) in
      guard o.innerDimension <= 200 && o.outerDimension <= 200 else {
        throw Unsupported(
          "stable keeps dense Hessian and Jacobian estimates; it supports at most 200 inner and 200 outer variables, this task has \(o.innerDimension) and \(o.outerDimension)"
        )
      }
      return STABLE(innerStep: .decreasing(o.innerStep, exponent: 0.5), outerRatio: o.outerRatio, settings: o.settings)
    },
    Entry(
      name: "sbfw", summary: "Projection-free stochastic bilevel Frank-Wolfe (Akhtar et al. IEEE TSP 2022).",
      parameters:
        "Frank-Wolfe step 1/(t+1)^{3/4} over the task's bounded set (coreset-simplex), momentum 1/√(t+1), batch 64",
      stochastic: true
    ) { o throws(Unsupported) in
      if case .unconstrained = o.constraint {
        throw Unsupported("sbfw needs a bounded constraint set on x; run it on coreset-simplex")
      }
      return SBFW(
        constraint: o.constraint, innerStep: .decreasing(o.innerStep, exponent: 0.5),
        neumannStep: .constant(o.innerStep), settings: o.settings)
    },
    Entry(
      name: "sbfw-pairwise",
      summary:
        "SBFW with pairwise Frank-Wolfe steps on the simplex and the short step (Lacoste-Julien and Jaggi 2015).",
      parameters:
        "as sbfw with every Neumann term (--neumann-truncation expected), steps capped by the short step with the task's L; needs the simplex (coreset-simplex)",
      stochastic: true
    ) { o throws(Unsupported) in
      guard o.constraint == .simplex, let smoothness = o.smoothness else {
        throw Unsupported(
          "sbfw-pairwise moves weight between vertices of the simplex and needs the task's L; run it on coreset-simplex"
        )
      }
      var settings = o.settings
      settings.neumannTruncation = .expected
      return SBFW(
        constraint: .simplex, innerStep: .decreasing(o.innerStep, exponent: 0.5), neumannStep: .constant(o.innerStep),
        variant: .pairwise, smoothness: smoothness, settings: settings)
    },
    Entry(
      name: "f3sa", summary: "Momentum-assisted fully first-order stochastic penalty method (Kwon et al. ICLR 2024).",
      parameters: "constant inner step, momentum 1/√(t+1), λ₀ = 1, λ += 1/√(t+1), batch 64", stochastic: true
    ) { o in F3SA(innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, settings: o.settings) },
    Entry(
      name: "adapag", summary: "Adaptive projection-aid gradient with mirror steps for PL inner problems (Huang 2023).",
      parameters:
        "constant inner step, Adam-like diagonal on x, Hessian clipped below at 0.1, optional ℓ1; dim y ≤ 200",
      stochastic: true
    ) { o throws(Unsupported) in
      guard o.innerDimension <= 200 else {
        throw Unsupported(
          "adapag forms the dense inner Hessian; it supports at most 200 inner variables, this task has \(o.innerDimension)"
        )
      }
      return AdaPAG(
        innerStep: .constant(o.innerStep), outerRatio: o.outerRatio, constraint: o.constraint, settings: o.settings)
    },
  ]

}
