import Autodiff

extension BilevelProblem {
  /// The hypergradient by the implicit function theorem.
  ///
  /// ```
  /// ∇²_yy g(x, y) v = ∇_y f(x, y)          (solved by `solver`)
  /// ∇F(x) = ∇_x f(x, y) − ∇²_xy g(x, y) v
  /// ```
  /// Valid at an inner solution y = y*(x) where ∇²_yy g is positive definite. The result
  /// checks both: it measures ‖∇_y g(x, y)‖ (one more gradient) against
  /// `innerTolerance`, and reports the solver's residual and any non-positive curvature.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: the inner solution at x (for example from `solveInner(x:y0:)`).
  ///   - solver: how to solve the linear system.
  ///   - hvpMode: how Hessian-vector and cross products compose forward and reverse mode.
  ///     With `.reverseOverReverse` (the default) the computation of ∇_y g is recorded once
  ///     and each Hessian-vector product is a single backward sweep over that record.
  ///   - innerTolerance: the largest ‖∇_y g(x, y)‖ accepted as an inner solution.
  ///   - initialGuess: a starting v for iterative solvers (for example the previous
  ///     result's `linearSolution`).
  /// - Returns: the estimate, its diagnostics and the oracle calls (CG with k iterations:
  ///   k Hessian-vector products, one cross product, one ∇f, one ∇_y g).
  ///
  /// References: S. Gould et al., "On differentiating parameterized argmin and argmax
  /// problems", 2016; F. Pedregosa, "Hyperparameter optimization with approximate
  /// gradient", ICML 2016; S. Ghadimi and M. Wang, "Approximation methods for bilevel
  /// programming", 2018.
  public func implicitHypergradient(
    x: Tensor, y: Tensor, solver: LinearSolver = .conjugateGradient(), hvpMode: HVPMode = .reverseOverReverse,
    innerTolerance: Double = 1e-6, initialGuess: Tensor? = nil
  ) -> HypergradientResult<Tensor, Tensor> {
    implicitHypergradient(
      x: x, y: y, solver: solver, hvpMode: hvpMode, innerTolerance: innerTolerance, initialGuess: initialGuess,
      oracles: makeOracles())
  }

  /// The implicit hypergradient with calls counted on `oracles` (the result's counts are
  /// the calls made by this estimate alone).
  func implicitHypergradient(
    x: Tensor, y: Tensor, solver: LinearSolver, hvpMode: HVPMode, innerTolerance: Double, initialGuess: Tensor?,
    oracles: Oracles
  ) -> HypergradientResult<Tensor, Tensor> {
    let before = oracles.counts
    var innerGradient: Tensor? = nil
    let apply: (Tensor) -> Tensor
    if hvpMode == .reverseOverReverse && solver != .dense {
      // Record ∇_y g once; every product is one backward sweep over the record.
      let recorded = oracles.recordedHessian(x: x, y: y)
      innerGradient = recorded.gradient
      apply = recorded.apply
    } else {
      apply = { v in oracles.hessianVectorProduct(x: x, y: y, v: v, mode: hvpMode) }
    }
    let linearMap = LinearOperator(
      dimension: y.scalarCount, apply: apply, materialize: { oracles.innerHessian(x: x, y: y) })
    return implicitHypergradient(
      x: x, y: y, oracles: oracles, linearMap: linearMap, solver: solver, innerTolerance: innerTolerance,
      initialGuess: initialGuess, innerGradient: innerGradient, countsBefore: before
    ) { v in oracles.crossProduct(x: x, y: y, v: v, mode: hvpMode) }
  }

  /// The implicit hypergradient with Hessian-vector and cross products replaced by their
  /// central finite-difference estimates (first-order oracles only, as in HJFBiO):
  ///
  /// ```
  /// ∇²_yy g v ≈ (∇_y g(x, y + δ v) − ∇_y g(x, y − δ v)) / 2δ
  /// ∇²_xy g v ≈ (∇_x g(x, y + δ v) − ∇_x g(x, y − δ v)) / 2δ
  /// ```
  /// The error of each product is O(δ²) plus rounding of order ε_machine / δ; δ near
  /// 1e-5 balances the two for well-scaled problems.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: the inner solution at x.
  ///   - solver: how to solve the linear system (`.dense` builds the Hessian column by
  ///     column from finite differences).
  ///   - step: δ, relative to ‖v‖ (each product uses δ / ‖v‖ along v).
  ///   - innerTolerance: the largest ‖∇_y g(x, y)‖ accepted as an inner solution.
  /// - Returns: the estimate; its counts show only gradient oracles.
  ///
  /// References: F. Huang, "Optimal Hessian/Jacobian-free nonconvex-PL bilevel
  /// optimization", ICML 2024.
  public func finiteDifferenceHypergradient(
    x: Tensor, y: Tensor, solver: LinearSolver = .conjugateGradient(maxIterations: 100, tolerance: 1e-8),
    step: Double = 1e-5, innerTolerance: Double = 1e-6
  ) -> HypergradientResult<Tensor, Tensor> {
    let oracles = makeOracles()
    func scaledStep(_ v: Tensor) -> Double {
      let norm = euclideanNorm(v)
      return norm > 0 ? step / norm : step
    }
    let apply = { (v: Tensor) -> Tensor in
      oracles.finiteDifferenceHessianVectorProduct(x: x, y: y, v: v, step: scaledStep(v))
    }
    let linearMap = LinearOperator(shape: y.shape, apply: apply)
    return implicitHypergradient(
      x: x, y: y, oracles: oracles, linearMap: linearMap, solver: solver, innerTolerance: innerTolerance,
      initialGuess: nil
    ) { v in oracles.finiteDifferenceCrossProduct(x: x, y: y, v: v, step: scaledStep(v)) }
  }

  /// The shared body of the implicit estimators.
  func implicitHypergradient(
    x: Tensor, y: Tensor, oracles: Oracles, linearMap: LinearOperator, solver: LinearSolver,
    innerTolerance: Double, initialGuess: Tensor?, innerGradient: Tensor? = nil, countsBefore: OracleCounts? = nil,
    crossProduct: (Tensor) -> Tensor
  ) -> HypergradientResult<Tensor, Tensor> {
    require(solver.validate() == nil, "implicitHypergradient: \(solver.validate() ?? "")")
    let before = countsBefore ?? oracles.counts
    let innerGradientNorm = euclideanNorm(innerGradient ?? oracles.innerGradientY(x: x, y: y))
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y)
    let solve = solver.solve(linearMap, rightHandSide: outerY, initialGuess: initialGuess)
    let hypergradient = outerX - crossProduct(solve.solution)
    var diagnostics: [String] = []
    if let inner = innerGradientDiagnostic(innerGradientNorm, tolerance: innerTolerance) { diagnostics.append(inner) }
    diagnostics += solve.diagnostics
    let finite = hypergradient.scalars.allSatisfy(\.isFinite)
    if !finite { diagnostics.append("the hypergradient has non-finite entries") }
    return HypergradientResult(
      gradient: hypergradient,
      converged: solve.converged && innerGradientNorm <= innerTolerance && finite,
      residualNorm: solve.residualNorm, iterations: solve.iterations, innerGradientNorm: innerGradientNorm,
      counts: oracles.counts - before, diagnostics: diagnostics.joined(separator: "; "), linearSolution: solve.solution,
      indefinite: solve.indefinite)
  }
}
