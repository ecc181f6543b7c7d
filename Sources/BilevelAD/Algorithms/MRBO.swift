import Autodiff

/// MRBO: momentum-based recursive bilevel optimization, STORM estimators of ∇_y g and of
/// the stocBiO hypergradient, with the samples shared between the current and previous
/// iterates.
///
/// Each iteration, on inner batch B, outer batch J and Q inner batches B_q shared by both
/// points (x⁻, y⁻ the previous iterate):
/// ```
/// w, w⁻ = the Neumann series η Σ_{q≤Q} Π_{k≤q} (I − η ∇²_yy g_{B_k}) ∇_y f_J at (x, y), (x⁻, y⁻)
/// h  = ∇_x f_J(x, y)   − ∇²_xy g_B(x, y) w          h ≈ ∇F(x)
/// h⁻ = ∇_x f_J(x⁻, y⁻) − ∇²_xy g_B(x⁻, y⁻) w⁻
/// D_y ← ∇_y g_B(x, y) + (1 − α_t)(D_y − ∇_y g_B(x⁻, y⁻))
/// D_x ← h + (1 − α_t)(D_x − h⁻)
/// (x⁻, y⁻) ← (x, y);   y ← y − ρ_t D_y,   x ← x − γ_t D_x
/// ```
/// with ρ_t = c/(t+1)^{1/3}, γ_t = ρ_t / outerRatio, momentum α_t = a/(t+1)^{2/3} and a
/// constant Neumann step η. The first iteration takes D_y = ∇_y g_B(x₀, y₀) and D_x = h,
/// as in the paper's Algorithm 1, and the previous iterate is then the initial point. (The
/// benchmark starts the previous iterate and both directions at 0, which adds a spurious
/// correction ∇_y g_B(0, 0) to the first directions.)
///
/// Oracle calls per iteration: two ∇_y g, 2Q Hessian-vector products and two cross
/// products on inner batches, two ∇f (∇_x f and ∇_y f) on the outer batch; with Q = 10,
/// 24 inner and 4 outer calls. The first iteration makes half of them.
///
/// References: J. Yang, K. Ji and Y. Liang, "Provably faster algorithms for bilevel
/// optimization", NeurIPS 2021. Defaults as in the benchopt bilevel benchmark:
/// ρ_t = 0.1/(t+1)^{1/3}, α_t = 0.5/(t+1)^{2/3}, η = 0.1, outer ratio 1, Q = 10, batches
/// of 64.
public struct MRBO: BilevelAlgorithm {
  /// "mrbo".
  public let name = "mrbo"
  /// ρ_t, the step of y.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// α_t, the momentum weight of the recursive estimators (1 − α_t keeps the past).
  public var momentum: StepSchedule
  /// η_t, the step of the Neumann series.
  public var neumannStep: StepSchedule
  /// Q, the Hessian-vector products of each Neumann series.
  public var neumannSteps: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// The current outer iterate.
  public var x: Tensor { state?.x ?? Tensor(0) }
  /// The current inner iterate.
  public var y: Tensor { state?.y ?? Tensor(0) }
  private var state: DoubleMomentumState?

  /// MRBO with the benchmark's defaults: ρ_t = 0.1/(t+1)^{1/3}, α_t = 0.5/(t+1)^{2/3},
  /// constant η = 0.1, outer ratio 1, Q = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - momentum: α_t.
  ///   - neumannStep: η_t.
  ///   - neumannSteps: Q.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 1.0 / 3), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.5, exponent: 2.0 / 3), neumannStep: StepSchedule = .constant(0.1),
    neumannSteps: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "MRBO: outerRatio must be positive, got \(outerRatio)")
    require(neumannSteps >= 0, "MRBO: neumannSteps must be non-negative, got \(neumannSteps)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.neumannStep = neumannStep
    self.neumannSteps = neumannSteps
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the previous iterate and the directions,
  /// and restarts the samplers and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = DoubleMomentumState(x: x, y: y, problem: oracles.problem, settings: settings)
  }

  /// Updates both recursive directions on shared batches, then steps y and x.
  public mutating func step(oracles: Oracles) -> Tensor {
    state!.step(
      oracles: oracles, innerStep: innerStep, outerRatio: outerRatio, momentum: momentum, neumannStep: neumannStep,
      neumannSteps: neumannSteps, estimate: .series)
  }
}
