import Autodiff

/// stocBiO: warm-started SGD on y, then a hypergradient from a stochastic Neumann series.
///
/// Each outer iteration, with a fresh mini-batch for every oracle call:
/// ```
/// repeat T times:  y ← y − ρ_t ∇_y g_B(x, y)
/// w = η Σ_{q=0}^{Q} Π_{k≤q} (I − η ∇²_yy g_{B_k}(x, y)) ∇_y f_J(x, y)    w ≈ [∇²_yy g]⁻¹ ∇_y f
/// D_x = ∇_x f_J(x, y) − ∇²_xy g_B'(x, y) w                                 D_x ≈ ∇F(x)
/// x ← x − γ_t D_x,   γ_t = ρ_t / outerRatio
/// ```
/// Here w is the solution of the linear system with the + sign (the benchmark's
/// convention for Neumann-based methods), so the cross term is subtracted.
///
/// Oracle calls per iteration: T ∇_y g, Q Hessian-vector products and one cross product
/// on inner batches (T + Q + 1 inner calls), one ∇f (∇_x f and ∇_y f) on an outer batch.
/// With the defaults, 21 inner and 2 outer calls.
///
/// References: K. Ji, J. Yang and Y. Liang, "Bilevel optimization: convergence analysis
/// and enhanced design", ICML 2021. Defaults as in the benchopt bilevel benchmark:
/// constant ρ = η = 0.1, outer ratio 1, T = Q = 10, batches of 64.
public struct StocBiO: StochasticAlgorithm {
  /// "stocbio".
  public let name = "stocbio"
  /// ρ_t, the step of the SGD steps on y.
  public var innerStep: StepSchedule
  /// η_t, the step of the Neumann series (below 2 / L of g's Hessian).
  public var neumannStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// T, the SGD steps on y per outer iteration.
  public var innerIterations: Int
  /// Q, the Hessian-vector products of the Neumann series.
  public var neumannTerms: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// stocBiO with the benchmark's defaults: constant ρ = η = 0.1, outer ratio 1,
  /// T = Q = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - neumannStep: η_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - innerIterations: T.
  ///   - neumannTerms: Q.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .constant(0.1), neumannStep: StepSchedule = .constant(0.1), outerRatio: Double = 1,
    innerIterations: Int = 10, neumannTerms: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "StocBiO: outerRatio must be positive, got \(outerRatio)")
    require(innerIterations >= 0 && neumannTerms >= 0, "StocBiO: step counts must be non-negative")
    self.innerStep = innerStep
    self.neumannStep = neumannStep
    self.outerRatio = outerRatio
    self.innerIterations = innerIterations
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// T SGD steps on y, the Neumann hypergradient at the new y, and one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      state.y = y - rho * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    }
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    let w = state.neumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: outerY, step: neumannStep.value(at: state.t), terms: neumannTerms
    )
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: state.innerBatch())
    state.x = x - (rho / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
