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
public struct MRBO: StochasticAlgorithm {
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
  public var neumannTerms: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()
  /// (x⁻, y⁻), the previous iterate.
  private var previous: (x: Tensor, y: Tensor)?
  /// (D_y, D_x), the recursive directions.
  private var directions: (y: Tensor, x: Tensor)?
  /// SUSTAIN's variant: Ghadimi and Wang's randomized truncation with bound Q (as
  /// `settings.neumannTruncation` says) in place of the series of Q terms.
  var randomizedNeumann = false

  /// MRBO with the benchmark's defaults: ρ_t = 0.1/(t+1)^{1/3}, α_t = 0.5/(t+1)^{2/3},
  /// constant η = 0.1, outer ratio 1, Q = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - momentum: α_t.
  ///   - neumannStep: η_t.
  ///   - neumannTerms: Q.
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 1.0 / 3), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.5, exponent: 2.0 / 3), neumannStep: StepSchedule = .constant(0.1),
    neumannTerms: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "MRBO: outerRatio must be positive, got \(outerRatio)")
    require(neumannTerms >= 0, "MRBO: neumannTerms must be non-negative, got \(neumannTerms)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the previous iterate and the directions,
  /// and restarts the samplers and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    previous = nil
    directions = nil
  }

  /// Updates both recursive directions on shared batches, then steps y and x.
  ///
  /// The series of Q terms is the randomized estimate with every term kept (bound Q + 1,
  /// `NeumannTruncation.expected`), so one call serves MRBO and SUSTAIN.
  public mutating func step(oracles: Oracles) -> Tensor {
    let (bound, truncation) =
      randomizedNeumann ? (neumannTerms, settings.neumannTruncation) : (neumannTerms + 1, .expected)
    let innerBatch = state.innerBatch()
    let outerBatch = state.outerBatch()
    let eta = neumannStep.value(at: state.t)
    let gradientY = oracles.innerGradientY(x: x, y: y, batch: innerBatch)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    if let old = previous, let d = directions {
      let oldGradientY = oracles.innerGradientY(x: old.x, y: old.y, batch: innerBatch)
      let (oldOuterX, oldOuterY) = oracles.outerGradients(x: old.x, y: old.y, batch: outerBatch)
      let (w, oldW) = state.jointRandomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: old.x, previousY: old.y,
        previousRightHandSide: oldOuterY, step: eta, terms: bound, truncation: truncation)
      let h = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch)
      let oldH = oldOuterX - oracles.crossProduct(x: old.x, y: old.y, v: oldW, batch: innerBatch)
      let keep = 1 - momentum.value(at: state.t)
      directions = (gradientY + keep * (d.y - oldGradientY), h + keep * (d.x - oldH))
    } else {
      let w = state.randomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: bound, truncation: truncation)
      directions = (gradientY, outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch))
    }
    previous = (x, y)
    let d = directions!
    let rho = innerStep.value(at: state.t)
    state.y = y - rho * d.y
    state.x = x - (rho / outerRatio) * d.x
    state.t += 1
    return d.x
  }
}
