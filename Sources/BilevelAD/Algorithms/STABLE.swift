import Autodiff

/// STABLE: a single-timescale single loop with recursive (momentum) estimates of the inner
/// Hessian and of the cross Jacobian, and a y step corrected by the change in x.
///
/// It forms the dense inner Hessian: on a problem over structures, over the flat scalars
/// of y (as every algorithm runs; see `BilevelProblem+Structures.swift`).
///
/// Each iteration k, on one inner batch B and one outer batch J, with (x⁻, y⁻) the previous
/// iterate:
/// ```
/// H_yy ← P_μ[ ∇²_yy g_B(x, y) + (1 − τ_k)(H_yy − ∇²_yy g_B(x⁻, y⁻)) ]       H_yy ≈ ∇²_yy g
/// H_xy ← P_C[ ∇²_xy g_B(x, y) + (1 − τ_k)(H_xy − ∇²_xy g_B(x⁻, y⁻)) ]       H_xy ≈ ∇²_xy g
/// h = ∇_x f_J(x, y) − H_xy H_yy⁻¹ ∇_y f_J(x, y)                            h ≈ ∇F(x)
/// x⁺ = x − α_k h
/// y⁺ = y − β_k ∇_y g_B(x, y) − H_yy⁻¹ H_xyᵀ (x⁺ − x)                      ∇y*(x) = −H_yy⁻¹ H_yx
/// ```
/// The first iteration takes the batch matrices themselves. P_μ projects a symmetric
/// matrix onto {H : H ⪰ μ I} (eigenvalues clipped from below at μ, so the inverse exists
/// even when a batch Hessian is singular); P_C scales H_xy back to Frobenius norm C (no
/// projection by default). The correction term moves y along the implicit function's
/// derivative as x moves, so y keeps tracking y*(x) with steps on the same timescale as
/// x: α_k = β_k / outerRatio with β_k = c/√(k+1), and τ_k = a/√(k+1).
///
/// STABLE keeps dense matrices: dim y × dim y for H_yy and dim x × dim y for H_xy, and
/// forms each batch matrix with dim y products. `start` refuses problems larger than
/// `maxInnerDimension` or `maxOuterDimension`.
///
/// Oracle calls per iteration after the first: one ∇_y g, 2 dim y Hessian-vector products
/// (two dense Hessians) and 2 dim y cross products (two cross Jacobians, one column per
/// product) on B, one ∇f (∇_x f and ∇_y f) on J; the first iteration forms one Hessian and
/// one cross Jacobian.
///
/// - Complexity: O(dim y³) arithmetic per iteration (a symmetric eigendecomposition) and
///   O(dim y (dim x + dim y)) memory.
///
/// References: T. Chen, Y. Sun, Q. Xiao and W. Yin, "A single-timescale method for
/// stochastic bilevel optimization", AISTATS 2022, PMLR 151:2466–2488 (arXiv:2102.04671);
/// seed 000 (`seeds/000_c49b68d03854275a.txt`, table "Momentum-Based and VR-Based BLO")
/// lists it as a momentum-based, implicit-function, single-loop method with O(ε⁻²) upper-
/// and lower-level oracle complexity, which the recursion above is. The paper's Algorithm 1
/// is not among the seeds, and of the paper this project's tools reach the abstract and
/// the first page, so no equation is cited and its projection sets and constants are
/// unchecked. The recursion above matches a public
/// PyTorch re-implementation: H ← (1 − τ)(H − h(x⁻, y⁻)) + h(x, y) for both matrices,
/// h = ∇_x f − H_xy H_yy⁻¹ ∇_y f, y⁺ = y − β ∇_y g − H_yy⁻¹ H_xyᵀ (x⁺ − x). Deviations from
/// that code:
/// - P_μ on H_yy (eigenvalues clipped at μ): a batch Hessian may be singular; that code
///   inverts it unprojected.
/// - P_C on H_xy (off by default): an optional bound; that code has none.
/// - ∇_x f kept in h: that code's outer objective does not depend on x.
/// - The first step takes the batch matrices; that code starts from H = 0 (giving τ h).
/// - Both points use the same batch B, so that the difference h(x, y) − h(x⁻, y⁻) has the
///   lower variance of a common sample.
/// - β_k and τ_k decrease as 1/√(k+1); that code uses constant steps and τ = 0.5.
public struct STABLE: StochasticAlgorithm {
  /// "stable".
  public let name = "stable"
  /// β_k, the step of y.
  public var innerStep: StepSchedule
  /// α_k = β_k / outerRatio, the step of x.
  public var outerRatio: Double
  /// τ_k, the momentum weight of the matrix estimates (1 − τ_k keeps the past).
  public var momentum: StepSchedule
  /// μ, the least eigenvalue kept in H_yy.
  public var hessianLowerBound: Double
  /// C, the largest Frobenius norm kept in H_xy (infinity: no projection).
  public var crossJacobianBound: Double
  /// The largest dim y accepted.
  public var maxInnerDimension: Int
  /// The largest dim x accepted.
  public var maxOuterDimension: Int
  /// Mini-batches and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// H_yy, the recursive estimate of ∇²_yy g, of shape [dim y, dim y] (empty before the
  /// first step).
  public private(set) var hessianEstimate = Tensor(0)
  /// H_xy, the recursive estimate of ∇²_xy g, of shape [dim x, dim y] (empty before the
  /// first step).
  public private(set) var crossJacobianEstimate = Tensor(0)
  private var previous: (x: Tensor, y: Tensor)?

  /// STABLE with single-timescale defaults: β_k = 0.1/√(k+1), α_k = β_k,
  /// τ_k = 0.5/√(k+1), μ = 0.1, no bound on H_xy, problems up to 200 × 200, batches of 64.
  ///
  /// - Parameters:
  ///   - innerStep: β_k.
  ///   - outerRatio: β_k / α_k.
  ///   - momentum: τ_k, in (0, 1].
  ///   - hessianLowerBound: μ, positive.
  ///   - crossJacobianBound: C, positive.
  ///   - maxInnerDimension: the largest dim y `start` accepts.
  ///   - maxOuterDimension: the largest dim x `start` accepts.
  ///   - settings: batch size, sampling scheme, seed.
  /// - Precondition: outerRatio, μ and C are positive.
  public init(
    innerStep: StepSchedule = .decreasing(0.1, exponent: 0.5), outerRatio: Double = 1,
    momentum: StepSchedule = .decreasing(0.5, exponent: 0.5), hessianLowerBound: Double = 0.1,
    crossJacobianBound: Double = .infinity, maxInnerDimension: Int = 200, maxOuterDimension: Int = 200,
    settings: StochasticSettings = StochasticSettings()
  ) {
    require(outerRatio > 0, "STABLE: outerRatio must be positive, got \(outerRatio)")
    require(hessianLowerBound > 0, "STABLE: hessianLowerBound must be positive, got \(hessianLowerBound)")
    require(crossJacobianBound > 0, "STABLE: crossJacobianBound must be positive, got \(crossJacobianBound)")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.momentum = momentum
    self.hessianLowerBound = hessianLowerBound
    self.crossJacobianBound = crossJacobianBound
    self.maxInnerDimension = maxInnerDimension
    self.maxOuterDimension = maxOuterDimension
    self.settings = settings
  }

  /// Sets (x, y) to the starting point, forgets the matrix estimates and the previous
  /// iterate, and restarts the samplers and the schedules.
  ///
  /// - Precondition: dim y ≤ `maxInnerDimension` and dim x ≤ `maxOuterDimension`.
  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    require(
      y.scalarCount <= maxInnerDimension,
      "STABLE: the inner variable has \(y.scalarCount) entries, above maxInnerDimension \(maxInnerDimension) "
        + "(STABLE keeps a dense dim y × dim y Hessian estimate); raise maxInnerDimension or use a Hessian-free method")
    require(
      x.scalarCount <= maxOuterDimension,
      "STABLE: the outer variable has \(x.scalarCount) entries, above maxOuterDimension \(maxOuterDimension) "
        + "(STABLE keeps a dense dim x × dim y cross-Jacobian estimate); raise maxOuterDimension or use a Hessian-free method"
    )
    hessianEstimate = Tensor(0)
    crossJacobianEstimate = Tensor(0)
    previous = nil
  }

  /// Updates both matrix estimates on the shared batch, steps x, then steps y with the
  /// correction for the change in x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let innerBatch = state.innerBatch()
    let outerBatch = state.outerBatch()
    let gradientY = oracles.innerGradientY(x: x, y: y, batch: innerBatch)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch)
    var hessian = oracles.innerHessian(x: x, y: y, batch: innerBatch)
    var cross = oracles.innerCrossJacobian(x: x, y: y, batch: innerBatch)
    if let old = previous {
      let keep = 1 - momentum.value(at: state.t)
      hessian = hessian + keep * (hessianEstimate - oracles.innerHessian(x: old.x, y: old.y, batch: innerBatch))
      cross =
        cross + keep * (crossJacobianEstimate - oracles.innerCrossJacobian(x: old.x, y: old.y, batch: innerBatch))
    }
    let crossNorm = cross.norm().scalar
    if crossNorm > crossJacobianBound { cross = cross * (crossJacobianBound / crossNorm) }
    let inverse = ClippedSymmetricInverse(hessian, lowerBound: hessianLowerBound)
    hessianEstimate = inverse.projected
    crossJacobianEstimate = cross
    let directionX = outerX - matmul(cross, inverse.solve(outerY.reshaped(to: [y.scalarCount]))).reshaped(to: x.shape)
    let beta = innerStep.value(at: state.t)
    let newX = x - (beta / outerRatio) * directionX
    let correction = inverse.solve(matmul(cross, transposed: true, (newX - x).reshaped(to: [x.scalarCount]))).reshaped(
      to: y.shape)
    previous = (x, y)
    state.y = y - beta * gradientY - correction
    state.x = newX
    state.t += 1
    return directionX
  }
}

/// The projection of a symmetric matrix onto {H : H ⪰ μ I} and the inverse of the result,
/// from one symmetric eigendecomposition H = Q diag(λ) Qᵀ:
/// ```
/// P_μ(H) = Q diag(max(λ, μ)) Qᵀ,   P_μ(H)⁻¹ b = Q diag(1 / max(λ, μ)) Qᵀ b
/// ```
/// The eigendecomposition symmetrizes the input first.
///
/// - Complexity: O(n³) to build, O(n²) per solve.
struct ClippedSymmetricInverse {
  let q: Tensor
  let clipped: Tensor

  /// - Precondition: `matrix` is square and μ > 0.
  init(_ matrix: Tensor, lowerBound: Double) {
    require(
      matrix.rank == 2 && matrix.shape[0] == matrix.shape[1],
      "ClippedSymmetricInverse: the matrix must be square, got shape \(matrix.shape)")
    require(lowerBound > 0, "ClippedSymmetricInverse: the lower bound must be positive, got \(lowerBound)")
    let n = matrix.shape[0]
    let (values, vectors) = DenseFactorizations.symmetricEigen(matrix.scalars, n: n)
    q = Tensor(shape: [n, n], scalars: vectors)
    clipped = Tensor(values.map { Swift.max($0, lowerBound) })
  }

  /// P_μ(H).
  var projected: Tensor {
    let n = clipped.scalarCount
    return matmul(q * clipped.reshaped(to: [1, n]), transposed: false, q, transposed: true)
  }

  /// P_μ(H)⁻¹ b for a vector b.
  func solve(_ b: Tensor) -> Tensor { matmul(q, matmul(q, transposed: true, b) / clipped) }
}
