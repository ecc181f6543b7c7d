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
/// Sources: `seeds/000_c49b68d03854275a.txt`, slide "Convergence Results of BLO Methods",
/// table "Stochastic BLO", row "ALSET [Chen et al. 21] | IF | Single | O(ε⁻²) | O(ε⁻²)": an
/// implicit-function hypergradient in a single loop, one that "Only performs a fixed
/// number of steps for LL updates before every UL update" (slide "Convergence Results of
/// Methods for Solving LU-BLO"), as the T steps on y do here. w is the note's
/// "Approach 3: The Neumann-series approximation approach" (slide "Approaches to
/// Approximate H⁻¹g"): a depth drawn uniformly from {0, …, K − 1} and the product of
/// I − ∇²_yy g(x, y; ξ_i) / L_g, with η = 1 / L_g and N = K. The prefactor here is
/// N η = K / L_g, Ghadimi and Wang's; the note writes k / L_g with the drawn depth k,
/// whose mean is not the truncated series. The handwritten note above the table reads
/// "Const. LRs for both UL & LL": constant steps are `.constant` schedules, while the
/// defaults decrease (the anytime c/√(k+1), at the same rate on both levels).
///
/// References: T. Chen, Y. Sun and W. Yin, "Closing the gap: tighter analysis of
/// alternating stochastic gradient methods for bilevel problems", NeurIPS 2021. The
/// recursion follows its abstract (NeurIPS proceedings page): SGD-type steps on the
/// variables in turn (ALternating Stochastic gradient dEscenT) and O(ε⁻²) samples in
/// total, the seed's count. The number T of y steps, the batch sizes and the step
/// constants are not stated in the seeds or in the abstract; the defaults are this
/// package's.
public struct ALSET: StochasticAlgorithm {
  /// "alset".
  public let name = "alset"
  /// β_k, the step of the SGD steps on y.
  public var innerStep: StepSchedule
  /// α_k = β_k / outerRatio, the step of x.
  public var outerRatio: Double
  /// T, the SGD steps on y per iteration.
  public var innerIterations: Int
  /// η, the step of the Neumann estimate (below 2 / L of g's Hessian).
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// ALSET with single-timescale defaults: β_k = 0.1/√(k+1), α_k = β_k, T = 1, constant
  /// Neumann step 0.1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: β_k.
  ///   - outerRatio: β_k / α_k.
  ///   - innerIterations: T.
  ///   - neumannStep: η.
  ///   - neumannTerms: N.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: outerRatio > 0, T ≥ 1 and N ≥ 1.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1, innerIterations: Int = 1,
    neumannStep: StepSchedule = .constant(0.1), neumannTerms: Int = 10,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "ALSET: outerRatio must be positive, got \(outerRatio)")
    require(innerIterations >= 1, "ALSET: innerIterations must be positive, got \(innerIterations)")
    require(neumannTerms >= 1, "ALSET: neumannTerms must be positive, got \(neumannTerms)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.innerIterations = innerIterations
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// T SGD steps on y, the randomized Neumann hypergradient at the new y, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let beta = innerStep.value(at: state.t)
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      state.y = y - beta * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    }
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    let w = state.randomizedNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: outerY, step: neumannStep.value(at: state.t), terms: neumannTerms,
      truncation: settings.neumannTruncation
    )
    let directionX = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: state.innerBatch())
    state.x = x - (beta / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
