import Autodiff

// The Sherman-Morrison-Woodbury solve of the implicit-function system for inner
// Hessians that are a diagonal plus a low-rank term. Goals, in priority order: an answer
// that is checked against the real Hessian (a wrong structure must not pass silently),
// then O(r² n + r³) arithmetic, then no Hessian-vector products beyond the one check.

/// The structure H = A + U V of an inner Hessian: A diagonal, U V of rank at most r.
///
/// ```
/// H = diag(a) + U V,    U: n × r,   V: r × n      (or A = λ I for a single diagonal entry)
/// ```
/// It is a claim about ∇²_yy g that the caller makes; `woodburyHypergradient` checks it
/// with one real Hessian-vector product.
public struct WoodburyStructure {
  /// A's diagonal: n entries, or one entry λ meaning A = λ I.
  public var diagonal: Tensor
  /// U, of shape [n, r].
  public var u: Tensor
  /// V, of shape [r, n].
  public var v: Tensor

  /// The structure diag(diagonal) + U V.
  ///
  /// - Parameters:
  ///   - diagonal: A's diagonal, n entries (any shape), or a single entry λ for A = λ I.
  ///   - u: U, of shape [n, r].
  ///   - v: V, of shape [r, n].
  /// - Precondition: u is n × r and v is r × n for the same n and r, and the diagonal has
  ///   n entries or one.
  public init(diagonal: Tensor, u: Tensor, v: Tensor) {
    require(
      u.rank == 2 && v.rank == 2 && u.shape[0] == v.shape[1] && u.shape[1] == v.shape[0],
      "WoodburyStructure: U of shape \(u.shape) and V of shape \(v.shape) are not n × r and r × n")
    require(
      diagonal.scalarCount == u.shape[0] || diagonal.scalarCount == 1,
      "WoodburyStructure: the diagonal has \(diagonal.scalarCount) entries, expected \(u.shape[0]) or 1")
    self.diagonal = withoutDerivative(at: diagonal).reshaped(to: [diagonal.scalarCount])
    self.u = withoutDerivative(at: u)
    self.v = withoutDerivative(at: v)
  }

  /// The structure λ I + U V.
  ///
  /// - Parameters:
  ///   - scale: λ.
  ///   - u: U, of shape [n, r].
  ///   - v: V, of shape [r, n].
  public init(scale: Double, u: Tensor, v: Tensor) {
    self.init(diagonal: Tensor([scale]), u: u, v: v)
  }

  /// n, the number of unknowns.
  public var dimension: Int { u.shape[0] }
  /// r, the rank of the low-rank term.
  public var rank: Int { u.shape[1] }

  /// H b = A b + U (V b).
  ///
  /// - Parameter b: a vector of n entries (any shape).
  /// - Returns: H b, of b's shape.
  /// - Complexity: O(r n).
  public func applied(to b: Tensor) -> Tensor {
    let n = dimension
    require(b.scalarCount == n, "WoodburyStructure.applied: \(b.scalarCount) entries, expected \(n)")
    let column = b.reshaped(to: [n])
    let diagonalPart = diagonal.scalarCount == 1 ? diagonal.reshaped(to: []) * column : diagonal * column
    return (diagonalPart + matmul(u, matmul(v, column.reshaped(to: [n, 1]))).reshaped(to: [n])).reshaped(to: b.shape)
  }

  /// H⁻¹ b by the Sherman-Morrison-Woodbury identity.
  ///
  /// ```
  /// (A + U V)⁻¹ b = A⁻¹ b − A⁻¹ U (I_r + V A⁻¹ U)⁻¹ V A⁻¹ b
  /// ```
  /// The r × r capacitance matrix I_r + V A⁻¹ U is solved by LU with partial pivoting
  /// (it is not symmetric unless V = Uᵀ).
  ///
  /// References: J. Sherman and W. J. Morrison, "Adjustment of an inverse matrix
  /// corresponding to a change in one element of a given matrix", Ann. Math. Stat. 1950;
  /// M. A. Woodbury, "Inverting modified matrices", Princeton Memorandum Report 42, 1950;
  /// W. W. Hager, "Updating the inverse of a matrix", SIAM Review 1989.
  /// - Parameter b: a vector of n entries (any shape).
  /// - Returns: H⁻¹ b in b's shape, or nil when A has a zero on its diagonal or the
  ///   capacitance matrix is singular to working precision.
  /// - Complexity: O(r² n + r³) arithmetic, no oracle calls.
  public func solve(_ b: Tensor) -> Tensor? {
    let n = dimension
    let r = rank
    require(b.scalarCount == n, "WoodburyStructure.solve: \(b.scalarCount) entries, expected \(n)")
    if diagonal.scalars.contains(where: { $0 == 0 || !$0.isFinite }) { return nil }
    let column = withoutDerivative(at: b).reshaped(to: [n])
    let scale = diagonal.scalarCount == 1 ? diagonal.reshaped(to: []) : diagonal
    let inverseAB = column / scale  // A⁻¹ b
    let inverseAU = u / (diagonal.scalarCount == 1 ? scale : scale.reshaped(to: [n, 1]))  // A⁻¹ U, n × r
    let capacitance = Tensor.identity(r) + matmul(v, inverseAU)  // I + V A⁻¹ U
    let projected = matmul(v, inverseAB.reshaped(to: [n, 1])).reshaped(to: [r])  // V A⁻¹ b
    guard capacitance.scalars.allSatisfy(\.isFinite),
      let t = DenseFactorizations.luSolve(capacitance.scalars, n: r, projected.scalars)
    else { return nil }
    let correction = matmul(inverseAU, Tensor(shape: [r, 1], scalars: t)).reshaped(to: [n])
    return (inverseAB - correction).reshaped(to: b.shape)
  }

  /// The Hessian structure of ridge-regularized logistic regression.
  ///
  /// ```
  /// g(w) = mean(softplus(X w) − t ⊙ X w) + λ/2 ‖w‖²       X: m samples × d features
  /// ∇²g = λ I + Xᵀ D X / m,   D = diag(σ(z) (1 − σ(z))),   z = X w
  /// A = λ I,   U = Xᵀ D / m  (d × m),   V = X  (m × d)
  /// ```
  /// The labels t do not enter the Hessian. With fewer samples than features (m < d) the
  /// Woodbury solve costs O(m² d) instead of the O(d³) of a dense one.
  ///
  /// - Parameters:
  ///   - X: the features, of shape [m, d].
  ///   - w: the weights, d entries.
  ///   - λ: the ridge weight.
  /// - Returns: the structure with n = d unknowns and rank r = m.
  /// - Precondition: X is a matrix with as many columns as w has entries.
  /// - Complexity: O(m d).
  public static func ridgeLogistic(features X: Tensor, weights w: Tensor, ridge λ: Double) -> WoodburyStructure {
    require(
      X.rank == 2 && X.shape[1] == w.scalarCount,
      "WoodburyStructure.ridgeLogistic: features of shape \(X.shape) do not match \(w.scalarCount) weights")
    let features = withoutDerivative(at: X)
    let m = features.shape[0]
    let probabilities = sigmoid(matmul(features, withoutDerivative(at: w).reshaped(to: [w.scalarCount])))
    let curvature = probabilities * (1 - probabilities)
    let u = features.transposed() * curvature.reshaped(to: [1, m]) / Double(m)
    return WoodburyStructure(scale: λ, u: u, v: features)
  }
}

extension BilevelProblem {
  /// The implicit hypergradient with the linear system solved by the Sherman-Morrison-
  /// Woodbury identity, for inner Hessians known to be a diagonal plus a low-rank term.
  ///
  /// ```
  /// H = ∇²_yy g(x, y) = A + U V                     (claimed by `structure`)
  /// v = A⁻¹b − A⁻¹U (I + V A⁻¹U)⁻¹ V A⁻¹b,   b = ∇_y f(x, y)
  /// residual = ‖∇²_yy g(x, y) v − b‖                 (one real Hessian-vector product)
  /// ∇F(x) = ∇_x f(x, y) − ∇²_xy g(x, y) v
  /// ```
  /// The structure is never trusted: one Hessian-vector product through the problem's
  /// oracles measures the residual, and a relative residual above `residualTolerance`
  /// makes the result non-converged with a sentence saying so, so a wrong structure
  /// (a wrong ridge weight, a missing term) shows up instead of a wrong hypergradient.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: the inner solution at x.
  ///   - structure: (x, y) ↦ the claimed structure of ∇²_yy g(x, y), with n = y's entry
  ///     count (for example `WoodburyStructure.ridgeLogistic`).
  ///   - hvpMode: how the checking Hessian-vector product and the cross product compose
  ///     forward and reverse mode.
  ///   - innerTolerance: the largest ‖∇_y g(x, y)‖ accepted as an inner solution.
  ///   - residualTolerance: the largest ‖H v − b‖ / ‖b‖ accepted.
  /// - Returns: the estimate with `residualNorm` = ‖H v − b‖ and `iterations` = r. Its
  ///   oracle calls: one ∇_y g (the inner check), one ∇f (both partials), one
  ///   Hessian-vector product (the residual check) and one cross product.
  /// - Precondition: the structure has n = y.scalarCount unknowns.
  /// - Complexity: O(r² n + r³) arithmetic besides the four oracle calls.
  ///
  /// It works on x and y as tensors: for a problem over structures, call it on
  /// `problem.flattened(x:y:)`, whose y is the structure's scalars flattened in order (the
  /// diagonal and low-rank factors are then over those scalars).
  ///
  /// References: the implicit function theorem as in `implicitHypergradient`; the
  /// identity as in `WoodburyStructure.solve`.
  public func woodburyHypergradient(
    x: Tensor, y: Tensor, structure: (Tensor, Tensor) -> WoodburyStructure,
    hvpMode: HVPMode = .forwardOverReverse, innerTolerance: Double = 1e-6, residualTolerance: Double = 1e-8
  ) -> HypergradientResult<Tensor, Tensor> {
    require(
      residualTolerance >= 0, "woodburyHypergradient: residualTolerance must be non-negative, got \(residualTolerance)")
    let oracles = makeOracles()
    let innerGradientNorm = euclideanNorm(oracles.innerGradientY(x: x, y: y))
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y)
    let claimed = structure(x, y)
    require(
      claimed.dimension == y.scalarCount,
      "woodburyHypergradient: the structure has \(claimed.dimension) unknowns but y has \(y.scalarCount) entries")
    var diagnostics: [String] = []
    if let inner = innerGradientDiagnostic(innerGradientNorm, tolerance: innerTolerance) { diagnostics.append(inner) }
    let bNorm = euclideanNorm(outerY)
    guard let v = claimed.solve(outerY) else {
      diagnostics.append(
        "the Woodbury solve failed: A has a zero or non-finite diagonal entry, or the \(claimed.rank) × \(claimed.rank) capacitance matrix I + V A⁻¹ U is singular"
      )
      return HypergradientResult(
        gradient: Tensor(shape: x.shape, repeating: .nan), converged: false, residualNorm: .nan,
        iterations: claimed.rank, innerGradientNorm: innerGradientNorm, counts: oracles.counts,
        diagnostics: diagnostics.joined(separator: "; "))
    }
    let residual = euclideanNorm(oracles.hessianVectorProduct(x: x, y: y, v: v, mode: hvpMode) - outerY)
    let relativeResidual = bNorm > 0 ? residual / bNorm : residual
    let solved = relativeResidual <= residualTolerance
    if !solved {
      diagnostics.append(
        relativeResidual.isFinite
          ? "the Woodbury solution leaves relative residual \(relativeResidual) = ‖∇²_yy g v − ∇_y f‖ / ‖∇_y f‖ above \(residualTolerance): the claimed structure A + U V is not the inner Hessian"
          : "the Woodbury solution has a non-finite residual")
    }
    let hypergradient = outerX - oracles.crossProduct(x: x, y: y, v: v, mode: hvpMode)
    let finite = hypergradient.scalars.allSatisfy(\.isFinite)
    if !finite { diagnostics.append("the hypergradient has non-finite entries") }
    return HypergradientResult(
      gradient: hypergradient, converged: solved && innerGradientNorm <= innerTolerance && finite,
      residualNorm: residual, iterations: claimed.rank, innerGradientNorm: innerGradientNorm,
      counts: oracles.counts, diagnostics: diagnostics.joined(separator: "; "), linearSolution: v)
  }
}
