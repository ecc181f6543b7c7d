import Autodiff

/// MSTSA: a single-timescale single loop, one SGD step on y and a STORM-type momentum
/// estimate of the hypergradient.
///
/// Each iteration k, on inner batch B (the y step), outer batch J, p inner batches B_q
/// (the Neumann products) and inner batch B' (the cross products), all shared by the
/// current point (x_k, y_{k+1}) and the previous point (x_{k−1}, y_k):
/// ```
/// y_{k+1} = y_k − β_k ∇_y g_B(x_k, y_k)
/// p ~ Uniform{0, …, N − 1}
/// w  = N η Π_{q≤p} (I − η ∇²_yy g_{B_q}(x_k, y_{k+1}))   ∇_y f_J(x_k, y_{k+1})
/// w⁻ = N η Π_{q≤p} (I − η ∇²_yy g_{B_q}(x_{k−1}, y_k))   ∇_y f_J(x_{k−1}, y_k)
/// h̄  = ∇_x f_J(x_k, y_{k+1}) − ∇²_xy g_{B'}(x_k, y_{k+1}) w          E h̄ ≈ ∇F(x_k)
/// h̄⁻ = ∇_x f_J(x_{k−1}, y_k) − ∇²_xy g_{B'}(x_{k−1}, y_k) w⁻
/// h_k = h̄ + (1 − η_k)(h_{k−1} − h̄⁻)        (h_0 = h̄)
/// x_{k+1} = x_k − α_k h_k
/// ```
/// Unlike SUSTAIN (the same authors' double-momentum method), y takes plain SGD steps and
/// only the hypergradient carries momentum. The hypergradient at the previous point is
/// taken at (x_{k−1}, y_k), the y paired with x_{k−1} after its own y step, so that h̄ − h̄⁻
/// on the same samples is small when the iterates move little.
///
/// Steps on a single timescale: α_k = β_k / outerRatio, β_k = c/√(k+1), and the momentum
/// weight η_k = a/(k+1), proportional to the step squared as in the STORM analysis.
///
/// Oracle calls per iteration after the first: one ∇_y g on B, 2p Hessian-vector products
/// on p batches, two cross products on B', two ∇f (∇_x f and ∇_y f) on J; the first
/// iteration makes one ∇_y g, p products, one cross product and one ∇f.
///
/// Sources: `seeds/000_c49b68d03854275a.txt`, slide "Convergence Results of BLO Methods",
/// table "Deterministic BLO", row "MSTSA [Khanduri et al. '21] | IF | Single | O(ε⁻¹) |
/// O(ε⁻¹)": an implicit-function hypergradient in a single loop, as above. w is the note's
/// "Approach 3: The Neumann-series approximation approach" (slide "Approaches to
/// Approximate H⁻¹g"), with η = 1 / L_g, N = K and Ghadimi and Wang's prefactor
/// N η = K / L_g where the note writes k / L_g (k the drawn depth). The seed files MSTSA
/// under deterministic methods; this type is the stochastic method of the paper.
///
/// References: P. Khanduri, S. Zeng, M. Hong, H.-T. Wai, Z. Wang and Z. Yang, "A
/// momentum-assisted single-timescale stochastic approximation algorithm for bilevel
/// optimization", arXiv:2102.07367v1, 2021 (its later versions became SUSTAIN, NeurIPS
/// 2021). The recursion follows the abstract of v1: a momentum-assisted estimator for the
/// upper-level updates only, a single timescale, constant samples per iteration, O(ε⁻²)
/// iterations for a smooth nonconvex upper level and O(ε⁻¹) for a strongly convex one
/// (the count in the seed's row). The momentum update is that of the public
/// re-implementation `mstsa` in JunjieYang97/MRVRBO (`stocBiO.py`):
/// h_k = η h̄ + (1 − η)(h_{k−1} + h̄ − h̄⁻), h̄ at (x_k, y_{k+1}) and h̄⁻ at (x_{k−1}, y_k)
/// on the same samples, which is the recursion above; that code sums a fixed number of
/// Neumann terms where this type draws the depth. The constants of α_k, β_k and η_k are
/// not stated in the seeds or in the abstract; the defaults are this package's.
public struct MSTSA: StochasticAlgorithm {
  /// "mstsa".
  public let name = "mstsa"
  /// β_k, the step of y.
  public var innerStep: StepSchedule
  /// α_k = β_k / outerRatio, the step of x.
  public var outerRatio: Double
  /// η_k, the momentum weight of the hypergradient estimate (1 − η_k keeps the past).
  public var momentum: StepSchedule
  /// η, the step of the Neumann estimate.
  public var neumannStep: StepSchedule
  /// N, the truncation bound of the Neumann estimate.
  public var neumannTerms: Int
  /// Mini-batches and seed (which also seeds the truncation depths).
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  private var previousX: Tensor?
  private var direction: Tensor?

  /// MSTSA with single-timescale defaults: β_k = 0.1/√(k+1), α_k = β_k, η_k = 0.5/(k+1),
  /// constant Neumann step 0.1, N = 10, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: β_k.
  ///   - outerRatio: β_k / α_k.
  ///   - momentum: η_k, in (0, 1].
  ///   - neumannStep: η.
  ///   - neumannTerms: N.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: outerRatio > 0 and N ≥ 1.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.5, exponent: 1), neumannStep: StepSchedule = .constant(0.1),
    neumannTerms: Int = 10, settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "MSTSA: outerRatio must be positive, got \(outerRatio)")
    require(neumannTerms >= 1, "MSTSA: neumannTerms must be positive, got \(neumannTerms)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.neumannStep = neumannStep
    self.neumannTerms = neumannTerms
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the previous point and the direction, and
  /// restarts the samplers, the truncation draws and the schedules.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    previousX = nil
    direction = nil
  }

  /// One SGD step on y, the momentum hypergradient on shared samples, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let beta = innerStep.value(at: state.t)
    let oldY = y
    state.y = y - beta * oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    let outerBatch = state.outerBatch()
    let eta = neumannStep.value(at: state.t)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    if let oldX = previousX, let d = direction {
      let (oldOuterX, oldOuterY) = oracles.outerGradients(x: oldX, y: oldY, batch: outerBatch)
      let (w, oldW) = state.jointRandomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, previousX: oldX, previousY: oldY,
        previousRightHandSide: oldOuterY, step: eta, terms: neumannTerms, truncation: settings.neumannTruncation
      )
      let crossBatch = state.innerBatch()
      let h = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: crossBatch)
      let oldH = oldOuterX - oracles.crossProduct(x: oldX, y: oldY, v: oldW, batch: crossBatch)
      direction = h + (1 - momentum.value(at: state.t)) * (d - oldH)
    } else {
      let w = state.randomizedNeumannSeries(
        oracles: oracles, x: x, y: y, rightHandSide: outerY, step: eta, terms: neumannTerms,
        truncation: settings.neumannTruncation
      )
      direction = outerX - oracles.crossProduct(x: x, y: y, v: w, batch: state.innerBatch())
    }
    previousX = x
    let d = direction!
    state.x = x - (beta / outerRatio) * d
    state.t += 1
    return d
  }
}
