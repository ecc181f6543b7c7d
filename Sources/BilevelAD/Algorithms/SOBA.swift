import Autodiff

/// SOBA: stochastic bilevel optimization with simultaneous steps on y, v and x.
///
/// The directions of the framework, each an average over samples:
/// ```
/// D_y = ∇_y g_i(x, y)
/// D_v = ∇²_yy g_i(x, y) v + ∇_y f_j(x, y)          v ≈ −[∇²_yy g]⁻¹ ∇_y f
/// D_x = ∇²_xy g_i(x, y) v + ∇_x f_j(x, y)          D_x → ∇F(x) at the fixed point
/// y ← y − ρ_t D_y,   v ← v − ρ_t D_v,   x ← x − γ_t D_x
/// ```
/// All five oracles are evaluated at the same (x, y, v) on one inner batch i and one
/// outer batch j (Jacobi updates). Steps ρ_t = c/√(t+1) and γ_t = ρ_t / outerRatio by
/// default, as in the benchopt bilevel benchmark.
///
/// Oracle calls per iteration: one joint ∇_y g / HVP / cross product on the inner batch,
/// one ∇f on the outer batch.
///
/// References: M. Dagréou, P. Ablin, S. Vaiter and T. Moreau, "A framework for bilevel
/// optimization that enables stochastic and global variance reduction algorithms",
/// NeurIPS 2022.
public struct SOBA: StochasticAlgorithm {
  public let name = "soba"
  /// ρ_t, the step of y and v.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The linear-system variable v ≈ −[∇²_yy g]⁻¹ ∇_y f.
  public private(set) var v = Tensor(0)

  /// SOBA with the benchmark's defaults: ρ_t = 0.1/√(t+1), outer ratio 1, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "SOBA: outerRatio must be positive, got \(outerRatio)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.v = Tensor.zeros(y.shape)
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let innerBatch = state.innerBatch()
    let outerBatch = state.outerBatch()
    let (gradientY, hessianV, crossV) = oracles.innerGradientWithProducts(x: x, y: y, v: v, batch: innerBatch)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    let rho = innerStep.value(at: state.t)
    let gamma = rho / outerRatio
    let directionX = crossV + outerX
    state.y = y - rho * gradientY
    v = v - rho * (hessianV + outerY)
    state.x = x - gamma * directionX
    state.t += 1
    return directionX
  }
}
