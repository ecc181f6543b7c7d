import Autodiff

/// ALSET: alternating stochastic gradient descent, a few SGD steps on y then one step on x
/// with a randomized Neumann hypergradient, both on one timescale.
///
/// Each iteration k, with a fresh mini-batch for every oracle call:
/// ```
/// repeat T times:  y ← y − β_k ∇_y g_B(x_k, y)
/// p ~ Uniform{0, …, N − 1}
/// w = N η Π_{q≤p} (I − η ∇²_yy g_{B_q}(x_k, y)) ∇_y f_J(x_k, y)        E w ≈ [∇²_yy g]⁻¹ ∇_y f
/// h = ∇_x f_J(x_k, y) − ∇²_xy g_{B'}(x_k, y) w                          E h ≈ ∇F(x_k)
/// x_{k+1} = x_k − α_k h
/// ```
/// Single timescale: α_k and β_k decrease at the same rate (α_k = β_k / outerRatio), and
/// T stays a small constant, unlike two-timescale TTSA (y faster than x) and double-loop
/// BSA (T growing). The analysis gives O(ε⁻²) samples, as for SGD, with α, β ∝ 1/√K for K
/// iterations; the defaults use the anytime schedule c/√(k+1).
///
/// Oracle calls per iteration: T ∇_y g, p ≤ N − 1 Hessian-vector products and one cross
/// product on inner batches (T + p + 1 batches), one ∇f (∇_x f and ∇_y f) on an outer
/// batch. With the defaults the nominal count is 12 inner and 2 outer calls.
///
/// References: T. Chen, Y. Sun and W. Yin, "Closing the gap: tighter analysis of
/// alternating stochastic gradient methods for bilevel problems", NeurIPS 2021. Only the
/// abstract could be read here; the recursion above is the bilevel instance the abstract
/// describes (SGD on each variable in turn, constant samples per iteration, single
/// timescale) with the Ghadimi-Wang randomized Neumann estimator of BSA and TTSA. The
/// paper's exact estimator and constants could not be checked.
public struct ALSET: BilevelAlgorithm {
  /// "alset".
  public let name = "alset"
  /// β_k, the step of the SGD steps on y.
  public var innerStep: StepSchedule
  /// α_k = β_k / outerRatio, the step of x.
  public var outerRatio: Double
  /// T, the SGD steps on y per iteration.
  public var innerSteps: Int
  /// η, the step of the Neumann estimate (below 2 / L of g's Hessian).
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannSteps: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// The current outer iterate.
  public private(set) var x = Tensor(0)
  /// The current inner iterate, warm-started across iterations.
  public private(set) var y = Tensor(0)
  private var t = 0
  private var streams: BatchStreams?
  private var generator = SeededRandomNumberGenerator(seed: 0)

  /// ALSET with single-timescale defaults: β_k = 0.1/√(k+1), α_k = β_k, T = 1, constant
  /// Neumann step 0.1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: β_k.
  ///   - outerRatio: β_k / α_k.
  ///   - innerSteps: T.
  ///   - neumannStep: η.
  ///   - neumannSteps: N.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: outerRatio > 0, T ≥ 1 and N ≥ 1.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1, innerSteps: Int = 1,
    neumannStep: StepSchedule = .constant(0.1), neumannSteps: Int = 10,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "ALSET: outerRatio must be positive, got \(outerRatio)")
    require(innerSteps >= 1, "ALSET: innerSteps must be positive, got \(innerSteps)")
    require(neumannSteps >= 1, "ALSET: neumannSteps must be positive, got \(neumannSteps)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.innerSteps = innerSteps
    self.neumannStep = neumannStep
    self.neumannSteps = neumannSteps
    self.settings = settings
  }

  /// Sets (x, y) to the starting point and restarts the samplers, the truncation draws and
  /// the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
    t = 0
    streams = BatchStreams(problem: oracles.problem, settings: settings)
    generator = SeededRandomNumberGenerator(seed: settings.algorithmSeed)
  }

  /// T SGD steps on y, the randomized Neumann hypergradient at the new y, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    var streams = self.streams!
    defer { self.streams = streams }
    let beta = innerStep.value(at: t)
    for _ in 0..<innerSteps where !oracles.isPastDeadline {
      y = y - beta * oracles.innerGradientY(x: x, y: y, batch: streams.nextInner()?.indices)
    }
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: streams.nextOuter()?.indices)
    let w = randomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: outerY, step: neumannStep.value(at: t), terms: neumannSteps,
      truncation: settings.neumannTruncation, using: &generator
    ) { streams.nextInner()?.indices }
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: streams.nextInner()?.indices)
    x = x - (beta / outerRatio) * directionX
    t += 1
    return directionX
  }
}
