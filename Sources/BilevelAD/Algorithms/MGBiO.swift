import Autodiff

/// MGBiO: momentum gradient descent for nonconvex-PL bilevel problems, with the inner
/// Hessian's spectrum projected onto [μ, L] before it is inverted.
///
/// It forms the dense inner Hessian: on a problem over structures, over the flat scalars
/// of y (as every algorithm runs; see `BilevelProblem+Structures.swift`).
///
/// ```
/// y ← y − λ ∇_y g(x, y)
/// S = Q clip(Λ, μ, L) Qᵀ  where  ∇²_yy g(x, y) = Q Λ Qᵀ          (symmetric Jacobi)
/// h = ∇_x f(x, y) − ∇²_xy g(x, y) S⁻¹ ∇_y f(x, y)
/// w ← β h + (1 − β) w      (w = h at the first iteration)
/// x ← Proj_C(x − γ w)
/// ```
/// Clipping makes the inverse exist and bounded when the lower level is only PL (a
/// singular Hessian). It materializes the Hessian (dim y Hessian-vector products) and
/// costs O(dim y³) arithmetic per iteration, so it refuses inner variables above
/// `maxInnerDimension`.
///
/// References: F. Huang, "On momentum-based gradient methods for bilevel optimization
/// with nonconvex lower-level", arXiv:2303.03944, 2023.
public struct MGBiO: BilevelAlgorithm {
  public let name = "mgbio"
  /// λ.
  public var innerStep: Double
  /// γ.
  public var outerStep: Double
  /// β ∈ (0, 1].
  public var momentum: Double
  /// [μ, L], the interval the Hessian's eigenvalues are clipped to.
  public var spectrum: ClosedRange<Double>
  /// The set x lives in.
  public var constraint: ConstraintSet
  /// The largest dim y accepted.
  public var maxInnerDimension: Int

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  private var w: Tensor?

  /// MGBiO with the given steps.
  public init(
    innerStep: Double = 0.1, outerStep: Double = 0.1, momentum: Double = 0.5,
    spectrum: ClosedRange<Double> = 0.1...10, constraint: ConstraintSet = .unconstrained, maxInnerDimension: Int = 500
  ) {
    require(momentum > 0 && momentum <= 1, "MGBiO: momentum must lie in (0, 1], got \(momentum)")
    require(spectrum.lowerBound > 0, "MGBiO: the spectrum's lower bound μ must be positive")
    self.innerStep = innerStep
    self.outerStep = outerStep
    self.momentum = momentum
    self.spectrum = spectrum
    self.constraint = constraint
    self.maxInnerDimension = maxInnerDimension
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    require(
      y.scalarCount <= maxInnerDimension,
      "MGBiO: the inner variable has \(y.scalarCount) entries, above maxInnerDimension \(maxInnerDimension) (it forms and decomposes the Hessian)"
    )
    self.x = constraint.project(x)
    self.y = y
    w = nil
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    y = y - innerStep * oracles.innerGradientY(x: x, y: y)
    let (fx, fy) = oracles.outerGradients(x: x, y: y)
    let n = y.scalarCount
    let hessian = oracles.innerHessian(x: x, y: y).scalars
    let (values, vectors) = DenseFactorizations.symmetricEigen(hessian, n: n)
    // v = Q diag(1 / clip(λ)) Qᵀ ∇_y f
    let b = fy.scalars
    var coefficients = [Double](repeating: 0, count: n)
    for j in 0..<n {
      var s = 0.0
      for k in 0..<n { s += vectors[k * n + j] * b[k] }
      coefficients[j] = s / min(max(values[j], spectrum.lowerBound), spectrum.upperBound)
    }
    var solution = [Double](repeating: 0, count: n)
    for k in 0..<n {
      var s = 0.0
      for j in 0..<n { s += vectors[k * n + j] * coefficients[j] }
      solution[k] = s
    }
    let h = fx - oracles.crossProduct(x: x, y: y, v: Tensor(shape: y.shape, scalars: solution))
    let direction = w.map { momentum * h + (1 - momentum) * $0 } ?? h
    w = direction
    x = constraint.project(x - outerStep * direction)
    return direction
  }
}
