import Autodiff

/// How the linear system of the implicit function theorem is solved.
///
/// ```
/// ∇²_yy g(x, y) v = ∇_y f(x, y)
/// ```
/// Every solver reports its residual ‖H v − b‖, its iterations and whether it converged,
/// so an inexact solve is never silent.
public enum LinearSolver: Sendable, Equatable {
  /// Materialize the Hessian (n Hessian-vector products) and solve by Cholesky. When the
  /// Hessian is not positive definite the result says so and the system is solved by LU
  /// with partial pivoting instead. For small y (n up to a few hundred). For y a
  /// structure of tensors, the matrix is over its scalars flattened in order.
  case dense
  /// Matrix-free conjugate gradient on Hessian-vector products, stopping when
  /// ‖H v − b‖ ≤ tolerance · ‖b‖. Stops and reports non-positive curvature p^T H p ≤ 0.
  case conjugateGradient(maxIterations: Int = 100, tolerance: Double = 1e-10)
  /// The truncated Neumann series v = α Σ_{k<K} (I − α H)^k b with K = `terms`, which
  /// converges when 0 < α < 2 / λ_max(H). Converged when the final residual (one extra
  /// product) is at most tolerance · ‖b‖.
  case neumann(terms: Int, stepSize: Double, tolerance: Double = 1e-6)
  /// Restarted GMRES(m) on Hessian-vector products, for indefinite or nonsymmetric
  /// systems; stops when ‖H v − b‖ ≤ tolerance · ‖b‖.
  case gmres(maxIterations: Int = 200, restart: Int = 30, tolerance: Double = 1e-10)
  /// The Hessian-free approximation H ≈ λ I, v = b / λ. Its residual (one product) is
  /// reported; converged when it is at most tolerance · ‖b‖, which only happens when the
  /// Hessian really is close to λ I.
  case identity(scale: Double, tolerance: Double = 1e-6)

  /// A short name for tables and command lines.
  public var name: String {
    switch self {
    case .dense: return "dense"
    case .conjugateGradient: return "conjugate-gradient"
    case .neumann: return "neumann"
    case .gmres: return "gmres"
    case .identity: return "identity"
    }
  }
}

/// A linear map given by its action, with a way to materialize it.
struct LinearOperator {
  /// The number of unknowns.
  let dimension: Int
  /// v ↦ A v.
  let apply: (Tensor) -> Tensor
  /// The dense matrix of A, of shape [n, n].
  let materialize: () -> Tensor
}

extension LinearOperator {
  /// The operator `apply` on vectors of `shape`, materialized column by column when a
  /// dense solver asks for its matrix.
  init(shape: TensorShape, apply: @escaping (Tensor) -> Tensor) {
    let n = shape.reduce(1, *)
    self.init(dimension: n, apply: apply, materialize: { denseMatrix(shape: shape, apply: apply) })
  }
}

/// The n × n matrix of a linear map on tensors of `shape` (n values): column j is the
/// map applied to the j-th basis vector.
///
/// - Complexity: n applications of the map.
func denseMatrix(shape: TensorShape, apply: (Tensor) -> Tensor) -> Tensor {
  let n = shape.reduce(1, *)
  if n == 0 { return Tensor.zeros([0, 0]) }
  let columns = (0..<n).map { j -> Tensor in
    var e = [Double](repeating: 0, count: n)
    e[j] = 1
    return apply(Tensor(shape: shape, scalars: e)).reshaped(to: [n])
  }
  return Tensor(stacking: columns).transposed()
}

/// What a linear solve produced and how far to trust it.
struct LinearSolveResult {
  var solution: Tensor
  var iterations: Int
  var residualNorm: Double
  var converged: Bool
  /// Non-positive curvature met (CG) or a Hessian that is not positive definite (dense).
  var indefinite: Bool = false
  var diagnostics: [String] = []
}

extension LinearSolver {
  /// Checks the solver's parameters, naming the first that is out of range.
  func validate() -> String? {
    switch self {
    case .dense: return nil
    case .conjugateGradient(let maxIterations, let tolerance):
      if maxIterations < 0 { return "conjugateGradient: maxIterations must be non-negative, got \(maxIterations)" }
      if !(tolerance >= 0) { return "conjugateGradient: tolerance must be non-negative, got \(tolerance)" }
    case .neumann(let terms, let stepSize, let tolerance):
      if terms < 1 { return "neumann: terms must be at least 1, got \(terms)" }
      if !(stepSize > 0) || !stepSize.isFinite { return "neumann: stepSize must be positive, got \(stepSize)" }
      if !(tolerance >= 0) { return "neumann: tolerance must be non-negative, got \(tolerance)" }
    case .gmres(let maxIterations, let restart, let tolerance):
      if maxIterations < 0 { return "gmres: maxIterations must be non-negative, got \(maxIterations)" }
      if restart < 1 { return "gmres: restart must be at least 1, got \(restart)" }
      if !(tolerance >= 0) { return "gmres: tolerance must be non-negative, got \(tolerance)" }
    case .identity(let scale, let tolerance):
      if !(scale > 0) || !scale.isFinite { return "identity: scale must be positive, got \(scale)" }
      if !(tolerance >= 0) { return "identity: tolerance must be non-negative, got \(tolerance)" }
    }
    return nil
  }

  /// Solves A v = b.
  func solve(_ linearMap: LinearOperator, rightHandSide b: Tensor, initialGuess: Tensor?) -> LinearSolveResult {
    require(validate() == nil, validate() ?? "")
    switch self {
    case .dense:
      return solveDense(linearMap, rightHandSide: b)
    case .conjugateGradient(let maxIterations, let tolerance):
      return solveByConjugateGradient(
        linearMap, rightHandSide: b, initialGuess: initialGuess, maxIterations: maxIterations, tolerance: tolerance)
    case .neumann(let terms, let stepSize, let tolerance):
      return solveByNeumannSeries(linearMap, rightHandSide: b, terms: terms, stepSize: stepSize, tolerance: tolerance)
    case .gmres(let maxIterations, let restart, let tolerance):
      return solveByGMRES(
        linearMap, rightHandSide: b, initialGuess: initialGuess, maxIterations: maxIterations, restart: restart,
        tolerance: tolerance)
    case .identity(let scale, let tolerance):
      return solveByIdentityApproximation(linearMap, rightHandSide: b, scale: scale, tolerance: tolerance)
    }
  }
}

/// The Euclidean norm of a constant tensor, as a Double.
@inline(__always)
func euclideanNorm(_ t: Tensor) -> Double {
  t.withUnsafeScalars { values in
    var sum = 0.0
    for value in values { sum += value * value }
    return sum.squareRoot()
  }
}

/// The inner product of two constant tensors of the same shape, as a Double.
@inline(__always)
func innerProduct(_ a: Tensor, _ b: Tensor) -> Double {
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      var sum = 0.0
      for i in 0..<pa.count { sum += pa[i] * pb[i] }
      return sum
    }
  }
}

/// y ← y + a x for constant tensors of the same shape, in place when y's storage is not
/// shared (the Krylov solvers' vector updates allocate nothing).
@inline(__always)
func addScaled(_ y: inout Tensor, _ a: Double, _ x: Tensor) {
  x.withUnsafeScalars { px in
    y.withUnsafeMutableScalars { py in
      for i in 0..<py.count { py[i] += a * px[i] }
    }
  }
}

/// p ← x + b p for constant tensors of the same shape, in place when p's storage is not
/// shared.
@inline(__always)
func scaleAndAdd(_ p: inout Tensor, _ b: Double, _ x: Tensor) {
  x.withUnsafeScalars { px in
    p.withUnsafeMutableScalars { pp in
      for i in 0..<pp.count { pp[i] = px[i] + b * pp[i] }
    }
  }
}
