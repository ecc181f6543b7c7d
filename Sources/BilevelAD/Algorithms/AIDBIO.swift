import Autodiff

/// AID-BIO: approximate implicit differentiation with warm starts.
///
/// One outer iteration k:
/// ```
/// y ← y − β ∇_y g(x, y)                       T times, from the previous y (warm start)
/// solve ∇²_yy g(x, y) v = ∇_y f(x, y)         N CG iterations from the previous v
/// x ← x − α (∇_x f(x, y) − ∇²_xy g(x, y) v)
/// ```
/// Oracle calls per iteration: T ∇_y g, N Hessian-vector products, one cross product, one
/// ∇f, one ∇_y g (the inner-gradient check of the implicit estimator).
///
/// References: S. Ghadimi and M. Wang, "Approximation methods for bilevel programming",
/// arXiv:1802.02246, 2018 (BA); K. Ji, J. Yang and Y. Liang, "Bilevel optimization:
/// convergence analysis and enhanced design", ICML 2021 (AID-BiO, Algorithm 1).
public struct AIDBIO: BilevelAlgorithm {
  public let name = "aid-bio"
  /// α.
  public var outerStep: Double
  /// β.
  public var innerStep: Double
  /// T.
  public var innerIterations: Int
  /// The linear solver, CG with N iterations by default.
  public var linearSolver: LinearSolver
  /// Whether v starts from the previous iteration's solution.
  public var warmStartLinearSolve: Bool

  public private(set) var x = Tensor(0)
  public private(set) var y = Tensor(0)
  private var v: Tensor?

  /// AID-BIO with the given steps.
  ///
  /// - Parameters:
  ///   - outerStep: α.
  ///   - innerStep: β (at most 1/L_g for convergence).
  ///   - innerIterations: T inner gradient steps per outer iteration.
  ///   - linearSolver: how v is computed (`.conjugateGradient(maxIterations: 10, ...)`
  ///     as in the paper, or `.neumann`).
  ///   - warmStartLinearSolve: start each solve from the previous v.
  public init(
    outerStep: Double = 0.1, innerStep: Double = 0.1, innerIterations: Int = 10,
    linearSolver: LinearSolver = .conjugateGradient(maxIterations: 10, tolerance: 1e-12),
    warmStartLinearSolve: Bool = true
  ) {
    require(innerIterations >= 0, "AIDBIO: innerIterations must be non-negative, got \(innerIterations)")
    self.outerStep = outerStep
    self.innerStep = innerStep
    self.innerIterations = innerIterations
    self.linearSolver = linearSolver
    self.warmStartLinearSolve = warmStartLinearSolve
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    self.x = x
    self.y = y
    self.v = nil
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    for _ in 0..<innerIterations where !oracles.isPastDeadline {
      y = y - innerStep * oracles.innerGradientY(x: x, y: y)
    }
    let estimate = oracles.problem.implicitHypergradient(
      x: x, y: y, solver: linearSolver, hvpMode: .reverseOverReverse, innerTolerance: .infinity,
      initialGuess: warmStartLinearSolve ? v : nil, oracles: oracles)
    v = estimate.linearSolution
    x = x - outerStep * estimate.gradient
    return estimate.gradient
  }
}
