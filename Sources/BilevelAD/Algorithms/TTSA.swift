import Autodiff

/// TTSA: a two-timescale single loop, one SGD step on y and one step on x with a
/// randomized-truncation Neumann hypergradient.
///
/// Each iteration, on inner batch B (used twice), outer batch J and p fresh inner
/// batches for the Neumann products:
/// ```
/// y ← y − ρ_t ∇_y g_B(x, y)
/// p ~ Uniform{0, …, N − 1}
/// w = N η Π_{k=1}^{p} (I − η ∇²_yy g_{B_k}(x, y)) ∇_y f_J(x, y)     E w ≈ [∇²_yy g]⁻¹ ∇_y f
/// D_x = ∇_x f_J(x, y) − ∇²_xy g_B(x, y) w                             D_x ≈ ∇F(x)
/// x ← x − γ_t D_x
/// ```
/// on two timescales: ρ_t = c/(t+1)^{2/5} and γ_t = c'/(t+1)^{3/5} / outerRatio, so y
/// tracks y*(x) faster than x moves. All oracles after the y step use the new y.
///
/// Oracle calls per iteration: one ∇_y g and one cross product on batch B, p ≤ N − 1
/// Hessian-vector products, one ∇f (∇_x f and ∇_y f) on an outer batch. The benchmark
/// counts the nominal 11 inner and 2 outer calls.
///
/// References: M. Hong, H.-T. Wai, Z. Wang and Z. Yang, "A two-timescale stochastic
/// algorithm framework for bilevel optimization: complexity analysis and application to
/// actor-critic", SIAM J. Optim. 33(1), 2023 (arXiv:2007.05170, 2020). Defaults as in the
/// benchopt bilevel benchmark: ρ_t = 0.1/(t+1)^{0.4}, γ_t = 0.1/(t+1)^{0.6}, η = 0.1,
/// N = 10, batches of 64.
public struct TTSA: StochasticAlgorithm {
  /// "ttsa".
  public let name = "ttsa"
  /// ρ_t, the step of y (the fast timescale).
  public var innerStep: StepSchedule
  /// The outer schedule before division by `outerRatio` (the slow timescale).
  public var outerStep: StepSchedule
  /// γ_t = outerStep_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// η_t, the step of the Neumann estimate.
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// TTSA with the benchmark's defaults: ρ_t = 0.1/(t+1)^{0.4}, γ_t = 0.1/(t+1)^{0.6},
  /// constant η = 0.1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerStep: γ_t · outerRatio.
  ///   - outerRatio: divides the outer schedule (the benchmark's outer step is
  ///     step_size / outer_ratio with its own exponent 0.6).
  ///   - neumannStep: η_t.
  ///   - neumannTerms: N.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.4),
    outerStep: StepSchedule = .decreasing(0.1, exponent: 0.6), outerRatio: Double = 1,
    neumannStep: StepSchedule = .constant(0.1), neumannTerms: Int = 10,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "TTSA: outerRatio must be positive, got \(outerRatio)")
    require(neumannTerms >= 1, "TTSA: neumannTerms must be positive, got \(neumannTerms)")
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.outerRatio = outerRatio
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// One SGD step on y, the randomized Neumann hypergradient at the new y, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let innerBatch = state.innerBatch()
    state.y = y - innerStep.value(at: state.t) * oracles.innerGradientY(x: x, y: y, batch: innerBatch)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    let w = state.randomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: outerY, step: neumannStep.value(at: state.t), terms: neumannTerms,
      truncation: settings.neumannTruncation
    )
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch)
    state.x = x - (outerStep.value(at: state.t) / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
