import Autodiff

/// FSLA: a fully single-loop algorithm, one SGD step on y, one on the linear-system
/// variable v, and a STORM-momentum hypergradient step on x, without any Hessian inverse.
///
/// Each iteration, with fresh inner batches B₁, B₂, B₃ and outer batches J₁, J₂, and
/// (x⁻, y⁻, v⁻) the point of the previous hypergradient estimate:
/// ```
/// y⁻ ← y;   y ← y − ρ_t ∇_y g_{B₁}(x, y)
/// v⁻ ← v;   v ← v − ρ_t (∇²_yy g_{B₂}(x, y) v − ∇_y f_{J₁}(x, y))      v ≈ [∇²_yy g]⁻¹ ∇_y f
/// h  = ∇_x f_{J₂}(x, y)   − ∇²_xy g_{B₃}(x, y) v                      h ≈ ∇F(x)
/// h⁻ = ∇_x f_{J₂}(x⁻, y⁻) − ∇²_xy g_{B₃}(x⁻, y⁻) v⁻
/// D_x ← h + (1 − α_t)(D_x − h⁻)
/// x⁻ ← x;   x ← x − γ_t D_x
/// ```
/// with ρ_t = c/√(t+1), γ_t = ρ_t / outerRatio and momentum α_t = c/√(t+1) (the
/// benchmark uses the step constant for both). The oracles after each update use the
/// updated y and v. The first iteration takes D_x = h, as STORM is started, and x⁻ is then
/// the initial point. (The benchmark starts x⁻ and D_x at 0, which adds a spurious
/// correction evaluated at x = 0 to the first direction.)
///
/// Oracle calls per iteration: one ∇_y g, one Hessian-vector product and two cross
/// products on inner batches, one ∇_y f and two ∇_x f on outer batches (4 inner and 3
/// outer calls); the first iteration makes one cross product and one ∇_x f fewer.
///
/// References: J. Li, B. Gu and H. Huang, "A fully single loop algorithm for bilevel
/// optimization without Hessian inverse", AAAI 2022. Defaults as in the benchopt bilevel
/// benchmark: ρ_t = α_t = 0.1/√(t+1), outer ratio 1, batches of 64.
public struct FSLA: StochasticAlgorithm {
  /// "fsla".
  public let name = "fsla"
  /// ρ_t, the step of y and v.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// α_t, the momentum weight of the hypergradient estimator (1 − α_t keeps the past).
  public var momentum: StepSchedule
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The linear-system variable v ≈ +[∇²_yy g]⁻¹ ∇_y f.
  public private(set) var v = Tensor(0)
  private var previousX: Tensor?
  private var directionX: Tensor?

  /// FSLA with the benchmark's defaults: ρ_t = α_t = 0.1/√(t+1), outer ratio 1, batches
  /// of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - momentum: α_t (keep it at most 1).
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.1, exponent: 0.5), settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "FSLA: outerRatio must be positive, got \(outerRatio)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, v to 0, forgets the previous point and the
  /// direction, and restarts the samplers and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.v = Tensor.zeros(y.shape)
    previousX = nil
    directionX = nil
  }

  /// One step on y, one on v at the new y, the momentum hypergradient, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    let previousY = y
    state.y = y - rho * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    let hessianV = oracles.hessianVectorProduct(x: x, y: y, v: v, batch: state.innerBatch())
    let outerY = oracles.outerGradientY(x: x, y: y, batch: state.outerBatch())
    let previousV = v
    v = v - rho * (hessianV - outerY)
    let outerBatch = state.outerBatch()
    let crossBatch = state.innerBatch()
    let h =
      oracles.outerGradientX(x: x, y: y, batch: outerBatch)
      - oracles.crossProduct(x: x, y: y, v: v, batch: crossBatch)
    if let oldX = previousX, let d = directionX {
      let oldH =
        oracles.outerGradientX(x: oldX, y: previousY, batch: outerBatch)
        - oracles.crossProduct(x: oldX, y: previousY, v: previousV, batch: crossBatch)
      directionX = h + (1 - momentum.value(at: state.t)) * (d - oldH)
    } else {
      directionX = h
    }
    previousX = x
    let d = directionX!
    state.x = x - (rho / outerRatio) * d
    state.t += 1
    return d
  }
}
