import Autodiff

/// F2SA: a fully first-order method on the Lagrangian of the value-function constraint,
/// with an increasing multiplier λ_k.
///
/// Three sequences: z tracks y*(x) = argmin g, y tracks y*_λ(x) = argmin f/λ + g, and x:
/// ```
/// repeat T times (fresh mini-batches each):
///   z ← z − β_k ∇_y g(x, z)
///   y ← y − α_k (∇_y f(x, y) / λ_k + ∇_y g(x, y))
/// x ← x − ξ_k (∇_x f(x, y) + λ_k (∇_x g(x, y) − ∇_x g(x, z)))
/// λ_{k+1} = λ_k + δ_k
/// ```
/// The direction differs from ∇F(x) by O(1/λ_k) (Kwon et al., Lemma 3.1), so the
/// multiplier grows. The y step is taken on f/λ + g, which has the same minimizer as
/// f + λ g and keeps the step stable as λ grows (the benchopt benchmark steps on f + λ g
/// with α_k unscaled, which diverges once α_k λ_k L_g > 2).
///
/// With `settings.batchSize == nil` (or a problem without finite-sum structure) it is the
/// deterministic method. Oracle calls per iteration: T (∇_y g at z, ∇_y f and ∇_y g at y),
/// one ∇_x f and two ∇_x g.
///
/// References: J. Kwon, D. Kwon, S. Wright and R. Nowak, "A fully first-order method for
/// stochastic bilevel optimization", ICML 2023. Default schedules as in the benchopt
/// bilevel benchmark: α_k = c/(k+1)^{5/7}, β_k = c/(k+1)^{4/7}, ξ_k = c/(k+1)^{4/7},
/// δ_k = 0.1/(k+1)^{1/7}, λ₀ = 1, T = 10.
public struct F2SA: StochasticAlgorithm {
  public let name = "f2sa"
  /// α_k, the y step.
  public var penalizedStep: StepSchedule
  /// β_k, the z step.
  public var innerStep: StepSchedule
  /// ξ_k, the x step.
  public var outerStep: StepSchedule
  /// λ₀.
  public var initialMultiplier: Double
  /// δ_k.
  public var multiplierIncrement: StepSchedule
  /// T.
  public var innerIterations: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The inner variable z ≈ y*(x).
  public private(set) var z = Tensor(0)
  /// λ_k.
  public private(set) var multiplier = 1.0

  /// F2SA with the benchmark's schedules (step constant 0.01) unless given.
  public init(
    penalizedStep: StepSchedule = .decreasing(0.01, exponent: 5.0 / 7),
    innerStep: StepSchedule = .decreasing(0.01, exponent: 4.0 / 7),
    outerStep: StepSchedule = .decreasing(0.01, exponent: 4.0 / 7), initialMultiplier: Double = 1,
    multiplierIncrement: StepSchedule = .decreasing(0.1, exponent: 1.0 / 7), innerIterations: Int = 10,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(initialMultiplier > 0 && innerIterations >= 0, "F2SA: invalid parameters")
    self.penalizedStep = penalizedStep
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.initialMultiplier = initialMultiplier
    self.multiplierIncrement = multiplierIncrement
    self.innerIterations = innerIterations
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.z = y
    multiplier = initialMultiplier
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let alpha = penalizedStep.value(at: state.t)
    let beta = innerStep.value(at: state.t)
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      z = z - beta * oracles.innerGradientY(x: x, y: z, batch: state.innerBatch())
      let outerY = oracles.outerGradientY(x: x, y: y, batch: state.outerBatch())
      let innerY = oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
      state.y = y - alpha * (outerY / multiplier + innerY)
    }
    let direction =
      oracles.outerGradientX(x: x, y: y, batch: state.outerBatch())
      + multiplier
      * (oracles.innerGradientX(x: x, y: y, batch: state.innerBatch())
        - oracles.innerGradientX(x: x, y: z, batch: state.innerBatch()))
    state.x = x - outerStep.value(at: state.t) * direction
    multiplier += multiplierIncrement.value(at: state.t)
    state.t += 1
    return direction
  }
}
