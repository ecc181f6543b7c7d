import Autodiff

/// SRBA: SOBA directions with SARAH recursive variance reduction and periodic full-batch
/// restarts.
///
/// Every q iterations the directions are computed on the full batch at the current point;
/// in between, with the same inner batch i and outer batch j at the current and previous
/// points,
/// ```
/// D_y ← D_y + ∇_y g_i(x, y) − ∇_y g_i(x⁻, y⁻)
/// D_v ← D_v + [∇²_yy g_i(x, y) v − ∇²_yy g_i(x⁻, y⁻) v⁻] + [∇_y f_j(x, y) − ∇_y f_j(x⁻, y⁻)]
/// D_x ← D_x + [∇²_xy g_i(x, y) v − ∇²_xy g_i(x⁻, y⁻) v⁻] + [∇_x f_j(x, y) − ∇_x f_j(x⁻, y⁻)]
/// (x⁻, y⁻, v⁻) ← (x, y, v);   y ← y − ρ D_y,  v ← v − ρ D_v,  x ← x − γ D_x
/// ```
/// with constant steps and q = ⌊(n + m) · periodFraction / B⌋ (at least 1). The paper also
/// projects v onto a ball of radius C_F/μ_G; `linearSystemRadius` does so when given (the benchmark
/// does not).
///
/// Oracle calls: a stochastic iteration makes two joint inner and two outer calls; a
/// restart makes one full-batch joint inner call and one full-batch ∇f.
///
/// References: M. Dagréou, T. Moreau, S. Vaiter and P. Ablin, "A lower bound and a
/// near-optimal algorithm for bilevel empirical risk minimization", AISTATS 2024.
public struct SRBA: StochasticAlgorithm {
  public let name = "srba"
  /// ρ (constant by default).
  public var innerStep: StepSchedule
  /// γ = ρ / outerRatio.
  public var outerRatio: Double
  /// The restart period as a fraction of an epoch over n + m samples.
  public var periodFraction: Double
  /// The radius of the ball v is projected onto, or nil for none.
  public var linearSystemRadius: Double?
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  public private(set) var v = Tensor(0)
  private var previous: (x: Tensor, y: Tensor, v: Tensor)?
  private var directions: (y: Tensor, v: Tensor, x: Tensor)?
  private var period = 1

  /// SRBA with the benchmark's defaults: ρ = 0.1, outer ratio 1, period half an epoch.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1, periodFraction: Double = 0.5,
    linearSystemRadius: Double? = nil, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "SRBA: outerRatio must be positive, got \(outerRatio)")
    require(periodFraction > 0, "SRBA: periodFraction must be positive, got \(periodFraction)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.periodFraction = periodFraction
    self.linearSystemRadius = linearSystemRadius
    self.settings = settings
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.v = Tensor.zeros(y.shape)
    previous = nil
    directions = nil
    if let finiteSum = oracles.problem.finiteSum, let batch = settings.batchSize {
      let samples = Double(finiteSum.innerSampleCount + finiteSum.outerSampleCount)
      period = max(1, Int(samples * periodFraction / Double(batch)))
    } else {
      period = 1
    }
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    if state.t % period == 0 || previous == nil || !state.streams.isStochastic {
      let (gy, hv, cross) = oracles.innerGradientWithProducts(x: x, y: y, v: v)
      let (fx, fy) = oracles.outerGradients(x: x, y: y)
      directions = (gy, hv + fy, cross + fx)
    } else {
      let old = previous!
      let inner = state.innerBatch()
      let outer = state.outerBatch()
      let now = oracles.innerGradientWithProducts(x: x, y: y, v: v, batch: inner)
      let then = oracles.innerGradientWithProducts(x: old.x, y: old.y, v: old.v, batch: inner)
      let (fxNow, fyNow) = oracles.outerGradients(x: x, y: y, batch: outer)
      let (fxThen, fyThen) = oracles.outerGradients(x: old.x, y: old.y, batch: outer)
      let d = directions!
      directions = (
        d.y + now.gradient - then.gradient,
        d.v + (now.hessianVectorProduct - then.hessianVectorProduct) + (fyNow - fyThen),
        d.x + (now.crossProduct - then.crossProduct) + (fxNow - fxThen)
      )
    }
    previous = (x, y, v)
    let d = directions!
    let rho = innerStep.value(at: state.t)
    state.y = y - rho * d.y
    v = v - rho * d.v
    if let radius = linearSystemRadius { v = ConstraintSet.ball(radius: radius).project(v) }
    state.x = x - (rho / outerRatio) * d.x
    state.t += 1
    return d.x
  }
}
