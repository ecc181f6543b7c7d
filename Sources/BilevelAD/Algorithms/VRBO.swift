import Autodiff

/// VRBO: variance-reduced bilevel optimization, SARAH/SPIDER recursive estimators of
/// ∇_y g and of the stocBiO hypergradient in a double loop with periodic full-batch
/// restarts.
///
/// Each outer iteration, with (x⁻, y⁻) the point where the current directions were last
/// estimated:
/// ```
/// every q outer iterations (full batch, at the current point):
///   w = η Σ_{q'≤Q} (I − η ∇²_yy g)^{q'} ∇_y f,   D_y = ∇_y g,   D_x = ∇_x f − ∇²_xy g w
///   (x⁻, y⁻) ← (x, y)
/// x ← x − γ D_x
/// repeat T times, on inner batch B, outer batch J and Q inner batches shared by both points:
///   w, w⁻ = the Neumann series η Σ Π (I − η ∇²_yy g_{B_k}) ∇_y f_J at (x, y), (x⁻, y⁻)
///   D_y ← D_y + ∇_y g_B(x, y) − ∇_y g_B(x⁻, y⁻)
///   D_x ← D_x + [∇_x f_J(x, y) − ∇²_xy g_B(x, y) w] − [∇_x f_J(x⁻, y⁻) − ∇²_xy g_B(x⁻, y⁻) w⁻]
///   (x⁻, y⁻) ← (x, y);   y ← y − ρ D_y
/// ```
/// with constant steps ρ, γ = ρ / outerRatio, η, and q = ⌊(n + m) · periodFraction / B⌋
/// outer iterations (at least 1; every iteration with full batches).
///
/// Two departures from the benchmark, both to keep the recursion an unbiased SARAH
/// estimate: the previous point carries its own x, so the first inner step after x moves
/// corrects for that move (the benchmark evaluates both points at the new x); and after a
/// restart the previous point is the restart point (the benchmark keeps the y before the
/// last inner step). The default period is half an epoch: the benchmark's default
/// `period_frac = 128` never restarts on its problems (its best runs use 0.01–0.5).
///
/// Oracle calls per outer iteration: T × (two ∇_y g, 2Q Hessian-vector products and two
/// cross products on inner batches, two ∇f on the outer batch): with T = Q = 10, 240 inner
/// and 40 outer calls; a restart adds one full-batch ∇_y g, Q Hessian-vector products, one
/// cross product and one ∇f.
///
/// References: J. Yang, K. Ji and Y. Liang, "Provably faster algorithms for bilevel
/// optimization", NeurIPS 2021. Defaults as in the benchopt bilevel benchmark (except the
/// period): constant ρ = η = 0.1, outer ratio 1, T = Q = 10, batches of 64.
public struct VRBO: StochasticAlgorithm {
  /// "vrbo".
  public let name = "vrbo"
  /// ρ_t, the step of y.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// η_t, the step of the Neumann series.
  public var neumannStep: StepSchedule
  /// T, the recursive inner steps per outer iteration.
  public var innerIterations: Int
  /// Q, the Hessian-vector products of each Neumann series.
  public var neumannTerms: Int
  /// The restart period as a fraction of an epoch over n + m samples, in outer iterations.
  public var periodFraction: Double
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  private var previous: (x: Tensor, y: Tensor)?
  private var directions: (y: Tensor, x: Tensor)?
  private var period = 1

  /// VRBO with the benchmark's defaults, ρ = η = 0.1, outer ratio 1, T = Q = 10, batches
  /// of 64, and a restart every half epoch.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - neumannStep: η_t.
  ///   - innerIterations: T.
  ///   - neumannTerms: Q.
  ///   - periodFraction: q · B / (n + m).
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1, neumannStep: StepSchedule = .constant(0.1),
    innerIterations: Int = 10, neumannTerms: Int = 10, periodFraction: Double = 0.5,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "VRBO: outerRatio must be positive, got \(outerRatio)")
    require(periodFraction > 0, "VRBO: periodFraction must be positive, got \(periodFraction)")
    require(innerIterations >= 0 && neumannTerms >= 0, "VRBO: step counts must be non-negative")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.neumannStep = neumannStep
    self.innerIterations = innerIterations
    self.neumannTerms = neumannTerms
    self.periodFraction = periodFraction
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the directions (the first step restarts),
  /// and restarts the samplers and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    previous = nil
    directions = nil
    if let finiteSum = oracles.problem.finiteSum, let batch = settings.batchSize {
      let samples = Double(finiteSum.innerSampleCount + finiteSum.outerSampleCount)
      period = max(1, Int(samples * periodFraction / Double(batch)))
    } else {
      period = 1
    }
  }

  /// A full-batch restart when due, one step on x, then T recursive steps on y.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    let eta = neumannStep.value(at: state.t)
    if state.t % period == 0 || directions == nil {
      let gradientY = oracles.innerGradientY(x: x, y: y)
      let (outerX, outerY) = oracles.outerGradients(x: x, y: y)
      let w = stochasticNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: neumannTerms
      ) { nil }
      directions = (gradientY, outerX - oracles.crossProduct(x: x, y: y, v: w))
      previous = (x, y)
    }
    let directionX = directions!.x
    state.x = x - (rho / outerRatio) * directionX
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      let old = previous!
      let innerBatch = state.innerBatch()
      let outerBatch = state.outerBatch()
      let gradientY = oracles.innerGradientY(x: x, y: y, batch: innerBatch)
      let oldGradientY = oracles.innerGradientY(x: old.x, y: old.y, batch: innerBatch)
      let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
      let (oldOuterX, oldOuterY) = oracles.outerGradients(x: old.x, y: old.y, batch: outerBatch)
      let (w, oldW) = state.jointNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: old.x, previousY: old.y,
        previousRightHandSide: oldOuterY, step: eta, terms: neumannTerms
      )
      let h = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: innerBatch)
      let oldH = oldOuterX - oracles.crossProduct(x: old.x, y: old.y, v: oldW, batch: innerBatch)
      let d = directions!
      directions = (d.y + gradientY - oldGradientY, d.x + h - oldH)
      previous = (x, y)
      state.y = y - rho * directions!.y
    }
    state.t += 1
    return directionX
  }
}
