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
/// (RPI CS 6962 slides, December 2023, Algorithm "F2SA with Adam", slide 17). Defaults are
/// the slides' choice for data hyper-cleaning on MNIST: γ = 0.0009, α = 0.001, ξ = 5,
/// δ = 0.1, β = (0.9, 0.99), T = 10. (The authors' code decays α and γ like 1/√(k+1),
/// expressible here with `.decreasing(_, exponent: 0.5)`, and re-zeroes x's moments every
/// 128 iterations, where the slides keep them; this type follows the slides.)
public struct F2SAAdam: BilevelAlgorithm {
  public let name = "f2sa-adam"
  /// α_k, the learning rate of y's Adam steps (x's is ξ α_k).
  public var yLearningRate: StepSchedule
  /// γ_k, the learning rate of z's Adam steps.
  public var zLearningRate: StepSchedule
  /// ξ, the ratio of x's learning rate to y's.
  public var outerRatio: Double
  /// λ₀.
  public var initialMultiplier: Double
  /// δ_k, the increment of λ.
  public var multiplierIncrement: StepSchedule
  /// T.
  public var innerSteps: Int
  /// Adam's β₁, β₂, ε.
  public var adam: InnerOptimizer
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  public private(set) var z = Tensor(0)
  public private(set) var multiplier = 1.0
  private var outerState: [Tensor] = []
  private var outerIteration = 0
  private var streams: BatchStreams?

  /// F2SA with Adam, by default with the slides' hyper-cleaning parameters.
  /// - Parameters:
  ///   - yLearningRate: α_k.
  ///   - zLearningRate: γ_k.
  ///   - outerRatio: ξ; x's learning rate is ξ α_k.
  ///   - initialMultiplier: λ₀ > 0.
  ///   - multiplierIncrement: δ_k ≥ 0.
  ///   - innerSteps: T.
  ///   - adam: an `.adam` optimizer carrying β₁, β₂, ε.
  ///   - settings: mini-batches and seed.
  public init(
    yLearningRate: StepSchedule = .constant(0.001), zLearningRate: StepSchedule = .constant(0.0009),
    outerRatio: Double = 5, initialMultiplier: Double = 1,
    multiplierIncrement: StepSchedule = .constant(0.1), innerSteps: Int = 10,
    adam: InnerOptimizer = .adam(beta1: 0.9, beta2: 0.99, epsilon: 1e-8),
    settings: StochasticSettings = StochasticSettings()
  ) {
    guard case .adam = adam else { fatalError("F2SAAdam: `adam` must be an `.adam` optimizer") }
    require(
      initialMultiplier > 0 && multiplierIncrement.value(at: 0) >= 0 && innerSteps >= 0 && outerRatio > 0,
      "F2SAAdam: invalid parameters")
    self.yLearningRate = yLearningRate
    self.zLearningRate = zLearningRate
    self.outerRatio = outerRatio
    self.initialMultiplier = initialMultiplier
    self.multiplierIncrement = multiplierIncrement
    self.innerSteps = innerSteps
    self.adam = adam
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
    self.z = y
    multiplier = initialMultiplier
    outerState = adam.initialState(x)
    outerIteration = 0
    streams = BatchStreams(problem: oracles.problem, settings: settings)
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let k = outerIteration
    let alpha = yLearningRate.value(at: k)
    let gamma = zLearningRate.value(at: k)
    var zState = adam.initialState(z)
    var yState = adam.initialState(y)
    for t in 1...max(innerSteps, 1) where innerSteps > 0 {
      let gz = oracles.innerGradientY(x: x, y: zState[0], batch: streams!.nextInner()?.indices)
      zState = adam.step(zState, iteration: t, learningRate: gamma) { _ in gz }
      let gy =
        oracles.outerGradientY(x: x, y: yState[0], batch: streams!.nextOuter()?.indices)
        + multiplier * oracles.innerGradientY(x: x, y: yState[0], batch: streams!.nextInner()?.indices)
      yState = adam.step(yState, iteration: t, learningRate: alpha) { _ in gy }
    }
    z = zState[0]
    y = yState[0]
    let direction =
      oracles.outerGradientX(x: x, y: y, batch: streams!.nextOuter()?.indices)
      + multiplier
      * (oracles.innerGradientX(x: x, y: y, batch: streams!.nextInner()?.indices)
        - oracles.innerGradientX(x: x, y: z, batch: streams!.nextInner()?.indices))
    outerIteration += 1
    outerState[0] = x
    outerState = adam.step(outerState, iteration: outerIteration, learningRate: outerRatio * alpha) { _ in direction }
    x = outerState[0]
    multiplier += multiplierIncrement.value(at: k)
    return direction
  }
}
