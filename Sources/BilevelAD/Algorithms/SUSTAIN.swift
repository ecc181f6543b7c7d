import Autodiff

/// SUSTAIN: a single loop with STORM momentum on both the ∇_y g and the hypergradient
/// estimators, whose hypergradient uses Ghadimi and Wang's randomized-truncation Neumann
/// estimate with the same depth and samples at the current and previous iterates.
///
/// Each iteration, on inner batch B, outer batch J and p inner batches B_k shared by both
/// points (x⁻, y⁻ the previous iterate):
/// ```
/// p ~ Uniform{0, …, N − 1}
/// w, w⁻ = N η Π_{k≤p} (I − η ∇²_yy g_{B_k}) ∇_y f_J at (x, y) and (x⁻, y⁻)
/// h  = ∇_x f_J(x, y)   − ∇²_xy g_B(x, y) w          h ≈ ∇F(x)
/// h⁻ = ∇_x f_J(x⁻, y⁻) − ∇²_xy g_B(x⁻, y⁻) w⁻
/// D_y ← ∇_y g_B(x, y) + (1 − α_t)(D_y − ∇_y g_B(x⁻, y⁻))
/// D_x ← h + (1 − α_t)(D_x − h⁻)
/// (x⁻, y⁻) ← (x, y);   y ← y − ρ_t D_y,   x ← x − γ_t D_x
/// ```
/// with ρ_t = c/(t+1)^{1/3}, γ_t = ρ_t / outerRatio, momentum α_t = a/(t+1)^{2/3} and a
/// constant Neumann step η: MRBO with the randomized Neumann estimate in place of the
/// stochastic series. The first iteration takes D_y = ∇_y g_B(x₀, y₀) and D_x = h (the
/// plain estimates, as STORM is started), and the previous iterate is then the initial
/// point. (The benchmark starts the previous iterate and both directions at 0, which adds
/// a spurious correction ∇_y g_B(0, 0) to the first directions.)
///
/// Oracle calls per iteration: two ∇_y g, 2p ≤ 2(N − 1) Hessian-vector products and two
/// cross products on inner batches, two ∇f (∇_x f and ∇_y f) on the outer batch; the
/// benchmark counts the nominal 24 inner and 4 outer calls. The first iteration makes half
/// of them.
///
/// References: P. Khanduri, S. Zeng, M. Hong, H.-T. Wai, Z. Wang and Z. Yang, "A
/// near-optimal algorithm for stochastic bilevel optimization via double-momentum",
/// NeurIPS 2021. Defaults as in the benchopt bilevel benchmark: ρ_t = 0.1/(t+1)^{1/3},
/// α_t = 0.5/(t+1)^{2/3}, η = 0.1, outer ratio 1, N = 10, batches of 64.
public struct SUSTAIN: BilevelAlgorithm {
  /// "sustain".
  public let name = "sustain"
  /// ρ_t, the step of y.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// α_t, the momentum weight of the recursive estimators (1 − α_t keeps the past).
  public var momentum: StepSchedule
  /// η_t, the step of the Neumann estimate.
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// MRBO with the randomized Neumann estimate: the update this file's comment states.
  private var core = MRBO()
  /// The current outer iterate.
  public var x: Tensor { core.x }
  /// The current inner iterate.
  public var y: Tensor { core.y }

  /// SUSTAIN with the benchmark's defaults: ρ_t = 0.1/(t+1)^{1/3}, α_t = 0.5/(t+1)^{2/3},
  /// constant η = 0.1, outer ratio 1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - momentum: α_t.
  ///   - neumannStep: η_t.
  ///   - neumannTerms: N.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 1.0 / 3), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.5, exponent: 2.0 / 3), neumannStep: StepSchedule = .constant(0.1),
    neumannTerms: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "SUSTAIN: outerRatio must be positive, got \(outerRatio)")
    require(neumannTerms >= 1, "SUSTAIN: neumannTerms must be positive, got \(neumannTerms)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the previous iterate and the directions,
  /// and restarts the samplers, the truncation draws and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    core = MRBO(
      innerStep: innerStep, outerRatio: outerRatio, momentum: momentum, neumannStep: neumannStep,
      neumannTerms: neumannTerms, settings: settings)
    core.randomizedNeumann = true
    core.start(x: x, y: y, oracles: oracles)
  }

  /// MRBO's step (`MRBO.step`) with the randomized Neumann estimate.
  public mutating func step(oracles: Oracles) -> Tensor { core.step(oracles: oracles) }
}
