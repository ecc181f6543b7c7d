import Autodiff

/// F2SA with Adam on all three sequences.
///
/// As F2SA, with every plain step replaced by an Adam step (Kingma and Ba 2015, with bias
/// correction):
/// ```
/// each outer iteration k:
///   fresh Adam states for y and z (moments reset to 0)
///   repeat T times: z ← Adam_z(∇_y g(x, z)),  y ← Adam_y(∇_y f(x, y) + λ_k ∇_y g(x, y))
///   x ← Adam_x(∇_x f(x, y) + λ_k (∇_x g(x, y) − ∇_x g(x, z)))   (x's moments kept)
///   λ_{k+1} = λ_k + δ
/// ```
/// Adam's scale invariance makes the unscaled y objective f + λ g safe as λ grows.
///
/// References: J. Kwon et al., ICML 2023 (F2SA); the "F2SA with Adam" algorithm of the
/// slides "Enhancing Bilevel Optimization with Single-Level Learning Techniques" as
/// described in the project's issue (moments reset for y and z each outer iteration,
/// kept for x; constant increment δ). The slides themselves could not be consulted.
public struct F2SAAdam: BilevelAlgorithm {
  public let name = "f2sa-adam"
  /// The learning rate of y's and z's Adam steps.
  public var innerLearningRate: Double
  /// The learning rate of x's Adam steps.
  public var outerLearningRate: Double
  /// λ₀.
  public var initialMultiplier: Double
  /// δ, the constant increment of λ.
  public var multiplierIncrement: Double
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

  /// F2SA with Adam; Adam's standard moments (0.9, 0.999, 1e-8).
  public init(
    innerLearningRate: Double = 0.01, outerLearningRate: Double = 0.01, initialMultiplier: Double = 1,
    multiplierIncrement: Double = 0.1, innerSteps: Int = 10,
    adam: InnerOptimizer = .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
    settings: StochasticSettings = StochasticSettings()
  ) {
    guard case .adam = adam else { preconditionFailure("F2SAAdam: `adam` must be an `.adam` optimizer") }
    precondition(initialMultiplier > 0 && multiplierIncrement >= 0 && innerSteps >= 0, "F2SAAdam: invalid parameters")
    self.innerLearningRate = innerLearningRate
    self.outerLearningRate = outerLearningRate
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
    var zState = adam.initialState(z)
    var yState = adam.initialState(y)
    for t in 1...max(innerSteps, 1) where innerSteps > 0 {
      let gz = oracles.innerGradientY(x: x, y: zState[0], batch: streams!.nextInner()?.indices)
      zState = adam.step(zState, iteration: t, learningRate: innerLearningRate) { _ in gz }
      let gy = oracles.outerGradientY(x: x, y: yState[0], batch: streams!.nextOuter()?.indices)
        + multiplier * oracles.innerGradientY(x: x, y: yState[0], batch: streams!.nextInner()?.indices)
      yState = adam.step(yState, iteration: t, learningRate: innerLearningRate) { _ in gy }
    }
    z = zState[0]
    y = yState[0]
    let direction = oracles.outerGradientX(x: x, y: y, batch: streams!.nextOuter()?.indices)
      + multiplier * (oracles.innerGradientX(x: x, y: y, batch: streams!.nextInner()?.indices)
        - oracles.innerGradientX(x: x, y: z, batch: streams!.nextInner()?.indices))
    outerIteration += 1
    outerState[0] = x
    outerState = adam.step(outerState, iteration: outerIteration, learningRate: outerLearningRate) { _ in direction }
    x = outerState[0]
    multiplier += multiplierIncrement
    return direction
  }
}
