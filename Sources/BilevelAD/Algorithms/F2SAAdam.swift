import Autodiff

/// F2SA with Adam on all three sequences.
///
/// As F2SA, with every plain step replaced by a bias-corrected Adam step
/// (m ← β₁ m + (1 − β₁) h, v ← β₂ v + (1 − β₂) h², step −ρ m̂ / (√v̂ + ε)):
/// ```
/// each outer iteration k:
///   fresh Adam states for y and z (moments reset to 0)
///   repeat T times: z ← Adam_z(∇_y g(x, z); γ_k),  y ← Adam_y(∇_y f(x, y) + λ_k ∇_y g(x, y); α_k)
///   x ← Adam_x(∇_x f(x, y) + λ_k (∇_x g(x, y) − ∇_x g(x, z)); ξ α_k)   (x's moments kept)
///   λ_{k+1} = λ_k + δ_k
/// ```
/// Adam's scale invariance makes the unscaled y objective f + λ g safe as λ grows.
/// Oracle calls per outer iteration: 2T ∇_y g and T ∇_y f, then ∇_x f and two ∇_x g.
///
/// References: J. Kwon, D. Kwon, S. Wright and R. Nowak, "A fully first-order method for
/// stochastic bilevel optimization", ICML 2023 (F2SA); D. Yang, L. Jiang, M. Tatli and
/// Q. Xiao, "Enhancing Bilevel Optimization with Single-Level Learning Techniques"
/// (`seeds/002_7c17d9d962bd5573.txt`, box "F2SA with Adam", lines 174–188, and the
/// AdamGrad update, lines 162–166). Defaults are the slides' selected parameters for data
/// hyper-cleaning on MNIST (the MNIST column of their table, lines 220–225): {γ_k, α_k} =
/// 0.0009 (one value for both), ξ = 5, δ_k = 0.1, β = (0.9, 0.99), batch 64. FashionMNIST's
/// column is {γ_k, α_k} = 0.001, ξ = 1, and ijcnn1's (regularization selection, lines
/// 271–276) 0.05, ξ = 1, β₂ = 0.85, batch 32. The slides give no T, ε or λ₀: T = 10,
/// ε = 1e-8 and λ₀ = 1 here. Their loops start at t = 0 and k = 0, where Adam's bias
/// correction 1 − β^0 divides by zero; the corrections here count from 1.
public struct F2SAAdam: StochasticAlgorithm {
  public let name = "f2sa-adam"
  /// α_k, the learning rate of y's Adam steps (x's is ξ α_k).
  public var penalizedStep: StepSchedule
  /// γ_k, the learning rate of z's Adam steps.
  public var innerStep: StepSchedule
  /// ξ, the ratio of x's learning rate to y's.
  public var stepRatio: Double
  /// λ₀.
  public var initialMultiplier: Double
  /// δ_k, the increment of λ.
  public var multiplierIncrement: StepSchedule
  /// T.
  public var innerIterations: Int
  /// Adam's β₁, β₂, ε.
  public var adam: InnerOptimizer
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  public private(set) var z = Tensor(0)
  public private(set) var multiplier = 1.0
  private var outerState: [Tensor] = []

  /// F2SA with Adam, by default with the slides' hyper-cleaning parameters.
  /// - Parameters:
  ///   - penalizedStep: α_k.
  ///   - innerStep: γ_k.
  ///   - stepRatio: ξ; x's learning rate is ξ α_k.
  ///   - initialMultiplier: λ₀ > 0.
  ///   - multiplierIncrement: δ_k ≥ 0.
  ///   - innerIterations: T.
  ///   - adam: an `.adam` optimizer carrying β₁, β₂, ε.
  ///   - settings: mini-batches and seed.
  public init(
    penalizedStep: StepSchedule = .constant(0.0009), innerStep: StepSchedule = .constant(0.0009),
    stepRatio: Double = 5, initialMultiplier: Double = 1,
    multiplierIncrement: StepSchedule = .constant(0.1), innerIterations: Int = 10,
    adam: InnerOptimizer = .adam(beta1: 0.9, beta2: 0.99, epsilon: 1e-8),
    settings: StochasticSettings = StochasticSettings()
  ) {
    guard case .adam = adam else { fatalError("F2SAAdam: `adam` must be an `.adam` optimizer") }
    require(
      initialMultiplier > 0 && multiplierIncrement.value(at: 0) >= 0 && innerIterations >= 0 && stepRatio > 0,
      "F2SAAdam: invalid parameters")
    self.penalizedStep = penalizedStep
    self.innerStep = innerStep
    self.stepRatio = stepRatio
    self.initialMultiplier = initialMultiplier
    self.multiplierIncrement = multiplierIncrement
    self.innerIterations = innerIterations
    self.adam = adam
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.z = y
    multiplier = initialMultiplier
    outerState = adam.initialState(x)
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let k = state.t
    let alpha = penalizedStep.value(at: k)
    let gamma = innerStep.value(at: k)
    var zState = adam.initialState(z)
    var yState = adam.initialState(y)
    for t in 1...max(innerIterations, 1) where innerIterations > 0 {
      let gz = oracles.innerGradientY(x: x, y: zState[0], batch: state.innerBatch())
      zState = adam.step(zState, iteration: t, learningRate: gamma) { _ in gz }
      let gy =
        oracles.outerGradientY(x: x, y: yState[0], batch: state.outerBatch())
        + multiplier * oracles.innerGradientY(x: x, y: yState[0], batch: state.innerBatch())
      yState = adam.step(yState, iteration: t, learningRate: alpha) { _ in gy }
    }
    z = zState[0]
    state.y = yState[0]
    let direction =
      oracles.outerGradientX(x: x, y: y, batch: state.outerBatch())
      + multiplier
      * (oracles.innerGradientX(x: x, y: y, batch: state.innerBatch())
        - oracles.innerGradientX(x: x, y: z, batch: state.innerBatch()))
    state.t += 1
    outerState[0] = x
    outerState = adam.step(outerState, iteration: state.t, learningRate: stepRatio * alpha) { _ in direction }
    state.x = outerState[0]
    multiplier += multiplierIncrement.value(at: k)
    return direction
  }
}
