import Autodiff

/// AmIGO: amortized implicit gradient optimization, warm-starting both the inner
/// solution y and the linear-system solution v across outer iterations.
///
/// Each outer iteration, with a fresh mini-batch for every oracle call:
/// ```
/// repeat T times:  y ← y − ρ_t ∇_y g_B(x, y)
/// b = ∇_y f_J(x, y)
/// repeat M times:  v ← v − η_t (∇²_yy g_B(x, y) v − b)        v ≈ [∇²_yy g]⁻¹ ∇_y f
/// D_x = ∇_x f_J(x, y) − ∇²_xy g_B'(x, y) v                    D_x ≈ ∇F(x)
/// x ← x − γ_t D_x,   γ_t = ρ_t / outerRatio
/// ```
/// The v steps are SGD on ½ vᵀ ∇²_yy g v − vᵀ ∇_y f with one outer batch held fixed, so v
/// solves the linear system with the + sign and the cross term is subtracted.
///
/// Oracle calls per iteration: T ∇_y g, M Hessian-vector products and one cross product
/// on inner batches, one ∇f (∇_x f and ∇_y f) on an outer batch. With the defaults, 21
/// inner and 2 outer calls.
///
/// References: M. Arbel and J. Mairal, "Amortized implicit differentiation for stochastic
/// bilevel optimization", ICLR 2022. Defaults as in the benchopt bilevel benchmark:
/// constant ρ = η = 0.1, outer ratio 1, T = M = 10, batches of 64.
public struct AmIGO: StochasticAlgorithm {
  /// "amigo".
  public let name = "amigo"
  /// ρ_t, the step of the SGD steps on y.
  public var innerStep: StepSchedule
  /// η_t, the step of the SGD steps on v.
  public var linearSystemStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// T, the SGD steps on y per outer iteration.
  public var innerIterations: Int
  /// M, the SGD steps on v per outer iteration.
  public var linearSystemIterations: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// The linear-system variable v ≈ +[∇²_yy g]⁻¹ ∇_y f, warm-started across outer
  /// iterations.
  public private(set) var v = Tensor(0)

  /// AmIGO with the benchmark's defaults: constant ρ = η = 0.1, outer ratio 1, T = M = 10,
  /// batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - linearSystemStep: η_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - innerIterations: T.
  ///   - linearSystemIterations: M (the benchmark uses T for both).
  ///   - settings: batch size, sampling scheme, seed.
  public init(
    innerStep: StepSchedule = .constant(0.1), linearSystemStep: StepSchedule = .constant(0.1), outerRatio: Double = 1,
    innerIterations: Int = 10, linearSystemIterations: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "AmIGO: outerRatio must be positive, got \(outerRatio)")
    require(innerIterations >= 0 && linearSystemIterations >= 0, "AmIGO: step counts must be non-negative")
    self.innerStep = innerStep
    self.linearSystemStep = linearSystemStep
    self.outerRatio = outerRatio
    self.innerIterations = innerIterations
    self.linearSystemIterations = linearSystemIterations
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, v to 0, and restarts the samplers and schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    self.v = Tensor.zeros(y.shape)
  }

  /// T SGD steps on y, M SGD steps on v at the new y, and one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    let eta = linearSystemStep.value(at: state.t)
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      state.y = y - rho * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    }
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    for _ in 0..<linearSystemIterations where !oracles.isPastDeadline {
      let hessianV = oracles.hessianVectorProduct(x: x, y: y, v: v, batch: state.innerBatch())
      v = v - eta * (hessianV - outerY)
    }
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: v, batch: state.innerBatch())
    state.x = x - (rho / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
