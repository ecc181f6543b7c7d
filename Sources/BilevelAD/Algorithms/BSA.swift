import Autodiff

/// BSA: bilevel stochastic approximation, a double loop with Ghadimi and Wang's
/// randomized-truncation Neumann hypergradient.
///
/// Each outer iteration, with a fresh mini-batch for every oracle call, the hypergradient
/// first, then the inner loop at the new x:
/// ```
/// p ~ Uniform{0, …, N − 1}
/// w = N η Π_{k=1}^{p} (I − η ∇²_yy g_{B_k}(x, y)) ∇_y f_J(x, y)     E w ≈ [∇²_yy g]⁻¹ ∇_y f
/// D_x = ∇_x f_J(x, y) − ∇²_xy g_B'(x, y) w                            D_x ≈ ∇F(x)
/// x ← x − γ_t D_x,   γ_t = ρ_t / outerRatio
/// repeat T times:  y ← y − ρ_t ∇_y g_B(x, y)
/// ```
/// with ρ_t = c/√(t+1) (the same ρ_t for the T steps) and a constant Neumann step η. The
/// paper takes η = 1/L_g; the benchmark, and this default, η = 0.1.
///
/// Oracle calls per iteration: one ∇f (∇_x f and ∇_y f) on an outer batch; p ≤ N − 1
/// Hessian-vector products ((N − 1)/2 on average), one cross product and T ∇_y g on inner
/// batches. The benchmark counts the nominal 21 inner and 2 outer calls.
///
/// References: S. Ghadimi and M. Wang, "Approximation methods for bilevel programming",
/// arXiv:1802.02246, 2018. Defaults as in the benchopt bilevel benchmark: ρ_t = 0.1/√(t+1),
/// η = 0.1, outer ratio 1, T = N = 10, batches of 64.
public struct BSA: StochasticAlgorithm {
  /// "bsa".
  public let name = "bsa"
  /// ρ_t, the step of the SGD steps on y.
  public var innerStep: StepSchedule
  /// η_t, the step of the Neumann estimate.
  public var neumannStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// T, the SGD steps on y per outer iteration.
  public var innerIterations: Int
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// BSA with the benchmark's defaults: ρ_t = 0.1/√(t+1), constant η = 0.1, outer ratio
  /// 1, T = N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - neumannStep: η_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - innerIterations: T.
  ///   - neumannTerms: N.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), neumannStep: StepSchedule = .constant(0.1),
    outerRatio: Double = 1, innerIterations: Int = 10, neumannTerms: Int = 10,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "BSA: outerRatio must be positive, got \(outerRatio)")
    require(
      innerIterations >= 0 && neumannTerms >= 1, "BSA: innerIterations must be non-negative and neumannTerms positive")
    self.innerStep = innerStep
    self.neumannStep = neumannStep
    self.outerRatio = outerRatio
    self.innerIterations = innerIterations
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// The randomized Neumann hypergradient, one step on x, then T SGD steps on y at the
  /// new x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    let w = state.randomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: outerY, step: neumannStep.value(at: state.t), terms: neumannTerms,
      truncation: settings.neumannTruncation
    )
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: state.innerBatch())
    state.x = x - (rho / outerRatio) * directionX
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      state.y = y - rho * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    }
    state.t += 1
    return directionX
  }
}
