import Autodiff

/// F2SA: a fully first-order method on the Lagrangian of the value-function constraint,
/// with an increasing multiplier λ_k.
///
/// Three sequences: z tracks y*(x) = argmin g, y tracks y*_λ(x) = argmin f + λ g, and x
/// moves by ξ times y's step (the box "Algorithm F²SA" of `seeds/002_7c17d9d962bd5573.txt`,
/// lines 5, 8 and 9, with h the mini-batch gradients):
/// ```
/// repeat T times (fresh mini-batches each), from z_{k,0} = z_k, y_{k,0} = y_k:
///   z_{k,t+1} ← z_{k,t} − γ_k h_gz,   y_{k,t+1} ← y_{k,t} − α_k (h_fy + λ_k h_gy)
/// x_{k+1} ← x_k − ξ α_k (h_fx + λ_k (h_gxy − h_gxz))
///   h_fx = ∇_x f(x_k, y_{k+1}), h_gxy = ∇_x g(x_k, y_{k+1}), h_gxz = ∇_x g(x_k, z_{k+1})
/// λ_{k+1} = λ_k + δ_k
/// ```
/// The direction differs from ∇F(x) by O(1/λ_k) (Kwon et al., Lemma 3.1), so the
/// multiplier grows. The y step is stable while α_k λ_k L_g < 2, so α_k must shrink like
/// 1/λ_k (the paper keeps α_k λ_k of the order of γ_k), and with it the x step ξ α_k. The
/// catalog's full-batch setting does so exactly: λ_k = k + 1, α_k = γ/(k + 1).
///
/// Deviations from the box:
/// - `scaledPenalty: true` (off by default) steps y on f/λ_k + g instead,
///   `y ← y − α_k (h_fy / λ_k + h_gy)`: the same minimizer y*_λ, a y step that stays
///   stable at a constant α_k however large λ_k grows, and an x step ξ α_k that does not
///   shrink like 1/λ_k (in the box's terms: y step α_k / λ_k, ratio ξ λ_k). It is the
///   method this type implemented before it followed the box; the deterministic test that
///   drives λ_k to 10⁴ on a quadratic needs it, where the box's x step ξ α_k ∝ 1/λ_k
///   either diverges early or stalls.
/// - `sharedXBatch: true` (off by default) draws one inner mini-batch for h_gxy and h_gxz
///   (φ_xy = φ_xz; the box draws two). The λ_k-scaled difference h_gxy − h_gxz is then
///   ∇_x g_φ(x, y) − ∇_x g_φ(x, z), whose per-sample terms in x cancel, instead of the
///   difference of two independent samples, whose spread grows like λ_k times the spread of
///   ∇_x g_φ itself. On the benchmark's finite-sum quadratic (`quadratic-sum`, batch 64,
///   constant x step 0.02) that spread is multiplicative (∇_x q_i ∋ u_i u_iᵀ x with
///   ‖u_i‖² ≈ 39), so the box's independent samples make the iteration unstable in mean
///   square once λ_k ≈ 15–20, and F(x) reaches 10⁵⁹ after 1000 iterations (three seeds,
///   10⁵⁹–10⁶³); with one shared batch the same run ends at F ≈ 0.9–1.1 (`F2SASamplingTests`
///   reproduces both on a smaller instance). Sharing delays the growth rather than removing
///   it: the remaining λ_k (∇_x g_φ(x, y) − ∇_x g_φ(x, z)) still carries λ_k times the
///   independent noise of y and z, and at constant steps it too outgrows the contraction
///   once λ_k ≈ 100 (measured on the test's instance); the box's α_k ∝ 1/λ_k avoids both.
/// - z₀ = y₀ (the box takes z₀ as an input).
/// - The step returns the direction h_fx + λ_k (h_gxy − h_gxz), not the x step.
///
/// With `settings.batchSize == nil` (or a problem without finite-sum structure) it is the
/// deterministic method. Oracle calls per iteration: T (∇_y g at z, ∇_y f and ∇_y g at y),
/// one ∇_x f and two ∇_x g.
///
/// References: J. Kwon, D. Kwon, S. Wright and R. Nowak, "A fully first-order method for
/// stochastic bilevel optimization", ICML 2023 (Algorithm 1); D. Yang, L. Jiang, M. Tatli
/// and Q. Xiao, "Enhancing Bilevel Optimization with Single-Level Learning Techniques"
/// (RPI CS 6962 slides, December 2023, box "Algorithm F²SA"). Default schedules: the
/// benchopt bilevel benchmark's α_k = c/(k+1)^{5/7}, γ_k = c/(k+1)^{4/7} and
/// δ_k = 0.1/(k+1)^{1/7} with c = 0.01, and ξ = 1, λ₀ = 1, T = 10 (the benchmark's own x
/// step c/(k+1)^{4/7} is not a constant multiple of α_k; ξ α_k decays like (k+1)^{-5/7}, as
/// in Kwon et al.).
public struct F2SA: StochasticAlgorithm {
  public let name = "f2sa"
  /// α_k, the y step (on ∇_y f + λ_k ∇_y g).
  public var penalizedStep: StepSchedule
  /// γ_k, the z step (on ∇_y g).
  public var innerStep: StepSchedule
  /// ξ, the x step as a multiple of the y step: x moves by ξ α_k.
  public var stepRatio: Double
  /// λ₀.
  public var initialMultiplier: Double
  /// δ_k, the increment of λ.
  public var multiplierIncrement: StepSchedule
  /// T.
  public var innerIterations: Int
  /// Whether y steps on ∇_y f / λ_k + ∇_y g (a deviation from the box, see above).
  public var scaledPenalty: Bool
  /// Whether h_gxy and h_gxz share one inner mini-batch (a deviation from the box, see above).
  public var sharedXBatch: Bool
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The inner variable z ≈ y*(x).
  public private(set) var z = Tensor(0)
  /// λ_k.
  public private(set) var multiplier = 1.0

  /// F2SA with the benchmark's schedules (step constant 0.01) unless given.
  ///
  /// - Parameters:
  ///   - penalizedStep: α_k, the y step.
  ///   - innerStep: γ_k, the z step.
  ///   - stepRatio: ξ > 0; the x step is ξ α_k.
  ///   - initialMultiplier: λ₀ > 0.
  ///   - multiplierIncrement: δ_k.
  ///   - innerIterations: T.
  ///   - scaledPenalty: step y on f/λ_k + g instead of f + λ_k g (a deviation).
  ///   - sharedXBatch: evaluate h_gxy and h_gxz on one inner mini-batch (a deviation).
  ///   - settings: mini-batches and seed.
  public init(
    penalizedStep: StepSchedule = .decreasing(0.01, exponent: 5.0 / 7),
    innerStep: StepSchedule = .decreasing(0.01, exponent: 4.0 / 7), stepRatio: Double = 1,
    initialMultiplier: Double = 1, multiplierIncrement: StepSchedule = .decreasing(0.1, exponent: 1.0 / 7),
    innerIterations: Int = 10, scaledPenalty: Bool = false, sharedXBatch: Bool = false,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(initialMultiplier > 0 && innerIterations >= 0 && stepRatio > 0, "F2SA: invalid parameters")
    self.penalizedStep = penalizedStep
    self.innerStep = innerStep
    self.stepRatio = stepRatio
    self.initialMultiplier = initialMultiplier
    self.multiplierIncrement = multiplierIncrement
    self.innerIterations = innerIterations
    self.scaledPenalty = scaledPenalty
    self.sharedXBatch = sharedXBatch
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.z = y
    multiplier = initialMultiplier
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let alpha = penalizedStep.value(at: state.t)
    let gamma = innerStep.value(at: state.t)
    // y ← y − α (a h_fy + b h_gy): (1, λ) in the box, (1/λ, 1) with `scaledPenalty`.
    let (a, b) = scaledPenalty ? (1 / multiplier, 1.0) : (1.0, multiplier)
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      z = z - gamma * oracles.innerGradientY(x: x, y: z, batch: state.innerBatch())
      let outerY = oracles.outerGradientY(x: x, y: y, batch: state.outerBatch())
      let innerY = oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
      state.y = y - alpha * (a * outerY + b * innerY)
    }
    let batchXY = state.innerBatch()
    let batchXZ = sharedXBatch ? batchXY : state.innerBatch()
    let direction =
      oracles.outerGradientX(x: x, y: y, batch: state.outerBatch())
      + multiplier
      * (oracles.innerGradientX(x: x, y: y, batch: batchXY)
        - oracles.innerGradientX(x: x, y: z, batch: batchXZ))
    state.x = x - (stepRatio * alpha) * direction
    multiplier += multiplierIncrement.value(at: state.t)
    state.t += 1
    return direction
  }
}
