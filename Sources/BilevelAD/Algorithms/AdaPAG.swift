import Autodiff

/// AdaPAG: adaptive projection-aid gradient, a mirror-descent (adaptive proximal) step on x
/// with a diagonal Adam-like metric, a hypergradient through the inner Hessian projected
/// onto {H ⪰ μ I}, for lower levels that are only Polyak-Łojasiewicz, and an optional
/// nonsmooth regularizer on x.
///
/// The upper level is min_x F(x) + r(x) with r(x) = ρ₁ ‖x‖₁ + ι_C(x) (C a convex set).
/// Each iteration t, on inner batches B (the y step) and B' (the second-order terms) and
/// outer batch J:
/// ```
/// v = ∇_y g_B(x, y),   b ← ϱ b + (1 − ϱ) ‖v‖² / dim y,   y ← y − λ_t v / (√b + ρ)
/// S = P_μ(∇²_yy g_{B'}(x, y))                 (eigenvalues clipped below at μ)
/// w = ∇_x f_J(x, y) − ∇²_xy g_{B'}(x, y) S⁻¹ ∇_y f_J(x, y)             w ≈ ∇F(x)
/// a ← ϱ a + (1 − ϱ) w²,   A = diag(√a + ρ)                          (elementwise)
/// x̃ = argmin_u ⟨w, u⟩ + r(u) + (1 / 2γ_t) (u − x)ᵀ A (u − x)
///   = Proj_C( soft(x − γ_t A⁻¹ w, γ_t ρ₁ A⁻¹) )     soft(u, τ)_i = sign(u_i) max(|u_i| − τ_i, 0)
/// x ← x + η_t (x̃ − x)
/// ```
/// with γ_t = λ_t / outerRatio. The metric A ⪰ ρ I keeps the mirror step bounded by γ_t / ρ
/// as the gradients vanish. y takes a scalar adaptive step, which keeps y in y₀ + range of
/// the inner gradients (a diagonal metric on y would move it along the flat directions of a
/// PL lower level and change which inner solution it selects). The mirror step is the
/// exact minimizer for C = ℝⁿ and for a box (the problem separates by coordinate); for a
/// ball, the simplex or an ℓ1 ball the weighted soft-thresholding is followed by the
/// Euclidean projection onto C, which keeps every iterate feasible but is not the exact
/// weighted proximal point.
///
/// With `settings.batchSize == nil` (or a problem without finite-sum structure) every
/// oracle uses the full objectives: the deterministic AdaPAG of the paper. With
/// mini-batches it is a plain stochastic variant (the paper's stochastic method,
/// AdaVSPAG, adds variance reduction, which this type does not).
///
/// Oracle calls per iteration: one ∇_y g on B; dim y Hessian-vector products (the dense
/// Hessian) and one cross product on B'; one ∇f (∇_x f and ∇_y f) on J.
///
/// - Complexity: O(dim y³) arithmetic per iteration (a symmetric eigendecomposition, reused
///   while the Hessian is bitwise unchanged, as on a quadratic lower level with full
///   batches); `start` refuses inner variables above `maxInnerDimension`.
///
/// Sources: `seeds/001_71a07ee1a5f6e715.txt` (F. Huang, slides) lists AdaPAG, its
/// reference [3], in the comparison table (slide "Existing Algorithms for Nonconvex-PL
/// Bilevel", and Table 1 under "Convergence Analysis"): "AdaPAG | (Huang, 2023a) |
/// PL / local-PL | O(ε⁻¹) / O(ε⁻¹) | Single", not Hessian/Jacobian-free, as above (one y
/// step per iteration, the inner Hessian formed). Its parts follow the same seed's box
/// "Algorithm 1 MGBiO Algorithm" (the author's MGBiO, its reference [2], arXiv:2303.03944):
/// line 4's S_[μ, L_g] (here P_μ, which clips the spectrum below at μ and not above at
/// L_g), line 5's w_t, and line 6's x̃ = argmin_x ⟨w_t, x⟩ + ‖x − x_t‖² / 2γ,
/// x_{t+1} = x_t + η_t (x̃ − x_t), with ‖·‖² weighted by A and r added. Two departures
/// from that box: w is taken at the new y (the box takes every oracle at (x_t, y_t)), and
/// y takes its full step, without the box's y_{t+1} = y_t + η_t (ỹ_{t+1} − y_t).
///
/// References: F. Huang, "Adaptive mirror descent bilevel optimization", arXiv:2311.04520,
/// 2023. Its abstract (arXiv listing) gives the rest of the structure above: adaptive
/// matrices in a mirror-descent step, a possibly nonsmooth regularizer, PL lower levels,
/// O(ε⁻¹) gradient complexity and an O(1/T) rate for the deterministic AdaPAG, variance
/// reduction for AdaVSPAG. The adaptive matrices take the form of the author's BiAdam
/// (F. Huang, J. Li and S. Gao, "BiAdam: fast adaptive bilevel optimization methods"):
/// an Adam-like diagonal A ⪰ ρ I and a scalar b. Not stated in the seeds or in the
/// abstract, and chosen by this package: the exact matrices, the step sizes and η_t.
public struct AdaPAG: StochasticAlgorithm {
  /// "adapag".
  public let name = "adapag"
  /// λ_t, the step of y.
  public var innerStep: StepSchedule
  /// γ_t = λ_t / outerRatio, the mirror step of x.
  public var outerRatio: Double
  /// η_t ∈ (0, 1], the averaging of x with the mirror point.
  public var averaging: StepSchedule
  /// ϱ ∈ [0, 1), the decay of the second-moment estimates a and b.
  public var secondMomentDecay: Double
  /// ρ > 0, the lower bound added to the adaptive matrices.
  public var adaptiveLowerBound: Double
  /// μ > 0, the least eigenvalue kept in the inner Hessian before it is inverted.
  public var hessianLowerBound: Double
  /// ρ₁ ≥ 0, the weight of the ℓ1 regularizer on x.
  public var l1Regularization: Double
  /// C, the set x lives in.
  public var constraint: ConstraintSet
  /// The largest dim y accepted.
  public var maxInnerDimension: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  private var outerMoment = Tensor(0)
  private var innerMoment = 0.0
  /// The last Hessian and its projected inverse, reused while the Hessian is unchanged.
  private var cachedInverse: (hessian: [Double], inverse: ClippedSymmetricInverse)?

  /// AdaPAG with constant steps λ = γ = 0.1, no averaging (η = 1), ϱ = 0.9, ρ = 1,
  /// μ = 0.1, no regularizer, no constraint, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: λ_t.
  ///   - outerRatio: λ_t / γ_t.
  ///   - averaging: η_t, in (0, 1].
  ///   - secondMomentDecay: ϱ.
  ///   - adaptiveLowerBound: ρ.
  ///   - hessianLowerBound: μ.
  ///   - l1Regularization: ρ₁.
  ///   - constraint: C.
  ///   - maxInnerDimension: the largest dim y `start` accepts.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: outerRatio, ρ and μ are positive, ϱ ∈ [0, 1) and ρ₁ ≥ 0.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1, averaging: StepSchedule = .constant(1),
    secondMomentDecay: Double = 0.9, adaptiveLowerBound: Double = 1, hessianLowerBound: Double = 0.1,
    l1Regularization: Double = 0, constraint: ConstraintSet = .unconstrained, maxInnerDimension: Int = 200,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "AdaPAG: outerRatio must be positive, got \(outerRatio)")
    require(
      secondMomentDecay >= 0 && secondMomentDecay < 1,
      "AdaPAG: secondMomentDecay must lie in [0, 1), got \(secondMomentDecay)")
    require(adaptiveLowerBound > 0, "AdaPAG: adaptiveLowerBound must be positive, got \(adaptiveLowerBound)")
    require(hessianLowerBound > 0, "AdaPAG: hessianLowerBound must be positive, got \(hessianLowerBound)")
    require(l1Regularization >= 0, "AdaPAG: l1Regularization must be non-negative, got \(l1Regularization)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.averaging = averaging
    self.secondMomentDecay = secondMomentDecay
    self.adaptiveLowerBound = adaptiveLowerBound
    self.hessianLowerBound = hessianLowerBound
    self.l1Regularization = l1Regularization
    self.constraint = constraint
    self.maxInnerDimension = maxInnerDimension
    self.settings = settings
  }

  /// Sets x to the projection of x0 onto C and y to y0, zeroes the second moments, and
  /// restarts the samplers and the schedules.
  ///
  /// - Precondition: dim y ≤ `maxInnerDimension`.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    require(
      y.scalarCount <= maxInnerDimension,
      "AdaPAG: the inner variable has \(y.scalarCount) entries, above maxInnerDimension \(maxInnerDimension) "
        + "(it forms and decomposes the inner Hessian)")
    state.x = constraint.project(x)
    outerMoment = Tensor.zeros(x.shape)
    innerMoment = 0
    cachedInverse = nil
  }

  /// One adaptive step on y, the projection-aided hypergradient at the new y, and one
  /// adaptive mirror step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let decay = secondMomentDecay
    let lambda = innerStep.value(at: state.t)
    let gradientY = oracles.innerGradientY(x: x, y: y, batch: state.innerBatch())
    innerMoment = decay * innerMoment + (1 - decay) * gradientY.squared().sum().scalar / Double(y.scalarCount)
    state.y = y - (lambda / (innerMoment.squareRoot() + adaptiveLowerBound)) * gradientY
    let secondOrderBatch = state.innerBatch()
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    let hessian = oracles.innerHessian(x: x, y: y, batch: secondOrderBatch)
    let inverse: ClippedSymmetricInverse
    if let cached = cachedInverse, cached.hessian == hessian.scalars {
      inverse = cached.inverse
    } else {
      inverse = ClippedSymmetricInverse(hessian, lowerBound: hessianLowerBound)
      cachedInverse = (hessian.scalars, inverse)
    }
    let v = inverse.solve(outerY.reshaped(to: [y.scalarCount])).reshaped(to: y.shape)
    let direction = outerX - oracles.crossProduct(x: x, y: y, v: v, batch: secondOrderBatch)
    outerMoment = decay * outerMoment + (1 - decay) * direction.squared()
    let metric = sqrt(outerMoment) + adaptiveLowerBound
    let gamma = lambda / outerRatio
    let mirror = mirrorStep(from: x, direction: direction, metric: metric, step: gamma)
    state.x = x + averaging.value(at: state.t) * (mirror - x)
    state.t += 1
    return direction
  }

  /// argmin_u ⟨w, u⟩ + ρ₁‖u‖₁ + ι_C(u) + (1/2γ)(u − x)ᵀ diag(m)(u − x): a weighted
  /// soft-thresholding, then the projection onto C (exact for ℝⁿ and boxes).
  private func mirrorStep(from x: Tensor, direction: Tensor, metric: Tensor, step gamma: Double) -> Tensor {
    let forward = (x - gamma * direction / metric).scalars
    let thresholds = metric.scalars.map { gamma * l1Regularization / $0 }
    let shrunk = zip(forward, thresholds).map { u, tau in
      u > tau ? u - tau : (u < -tau ? u + tau : 0)
    }
    return constraint.project(Tensor(shape: x.shape, scalars: shrunk))
  }
}
