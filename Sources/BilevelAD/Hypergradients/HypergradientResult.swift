import Autodiff

/// A hypergradient estimate together with the evidence needed to trust or reject it.
///
/// The implicit function theorem gives ∇F(x) = ∇_x f − ∇²_xy g [∇²_yy g]⁻¹ ∇_y f only at
/// an inner solution (∇_y g = 0) with a positive definite inner Hessian, and only if the
/// linear system is solved. `converged` is true only when all of that was checked;
/// `diagnostics` says in words what failed.
public struct HypergradientResult<X: TensorStructure, Y: TensorStructure> {
  /// The estimate of ∇F(x), of x's shape.
  public var gradient: X
  /// Whether every check passed: inner gradient norm within the inner tolerance, linear
  /// solve within its tolerance and budget, positive curvature.
  public var converged: Bool
  /// The residual of the linear solve ‖∇²_yy g v − ∇_y f‖ (implicit estimators), or the
  /// inner gradient norm at the last iterate (unrolled estimators).
  public var residualNorm: Double
  /// Linear-solver iterations (implicit) or inner steps (unrolled).
  public var iterations: Int
  /// ‖∇_y g(x, y)‖ at the y the estimate used: the implicit function theorem assumes 0.
  public var innerGradientNorm: Double
  /// The oracle calls the estimate used.
  public var counts: OracleCounts
  /// Empty when all is well; otherwise one sentence per problem found.
  public var diagnostics: String
  /// The solution v of ∇²_yy g v = ∇_y f (implicit estimators), to warm-start the next solve.
  public var linearSolution: Y?
  /// Whether non-positive curvature was met: the inner problem is not strongly convex here.
  public var indefinite: Bool
  /// Full inner solves the estimate made (zero-order and penalty estimators); 0 otherwise.
  public var innerSolves: Int
  /// The last inner iterate y_K (unrolled estimators), to warm-start the next run.
  public var innerIterate: Y?

  /// A result with every field given.
  public init(
    gradient: X, converged: Bool, residualNorm: Double, iterations: Int, innerGradientNorm: Double,
    counts: OracleCounts, diagnostics: String, linearSolution: Y? = nil, indefinite: Bool = false,
    innerSolves: Int = 0, innerIterate: Y? = nil
  ) {
    self.gradient = gradient
    self.converged = converged
    self.residualNorm = residualNorm
    self.iterations = iterations
    self.innerGradientNorm = innerGradientNorm
    self.counts = counts
    self.diagnostics = diagnostics
    self.linearSolution = linearSolution
    self.indefinite = indefinite
    self.innerSolves = innerSolves
    self.innerIterate = innerIterate
  }
}

extension BilevelProblem {
  /// The sentence reporting an inner gradient norm above tolerance, or nil.
  func innerGradientDiagnostic(_ norm: Double, tolerance: Double) -> String? {
    if !norm.isFinite { return "the inner gradient ∇_y g is not finite at the given y" }
    if norm > tolerance {
      return "y is not an inner solution: ‖∇_y g‖ = \(norm) exceeds the inner tolerance \(tolerance)"
    }
    return nil
  }
}
