import Autodiff

// y*(x) as a differentiable value: the solution of F(x, y) = 0, with derivatives from the
// implicit function theorem written in the engine's operations.
//
//   forward:  ẏ = −A⁻¹ ∂_x F ẋ,           A = ∂_y F(x, y*)
//   reverse:  x̄ = −∇_x ⟨λ, F(x, y*)⟩,      λ = A⁻ᵀ ȳ
//
// A's solves go through the differentiable `linearSolve`, and the rules are evaluated at
// the lower levels' x and y* (which carry their own derivatives), so the rules nest:
// Hessians and third derivatives of anything computed from y*(x) are exact up to the
// solvers' tolerances. The solver's iterations are never differentiated.
//
// argmin:     F = ∇_y g                 (A = ∇²_yy g, symmetric)
// root:       F as given                (A = ∂_y F)
// fixedPoint: F = T(x, y) − y           (A = ∂_y T − I)
//
// References: B. Amos and J. Z. Kolter, "OptNet", ICML 2017; M. Blondel et al.,
// "Efficient and modular implicit differentiation", NeurIPS 2022 (jaxopt); S. Bai, J. Z.
// Kolter and V. Koltun, "Deep equilibrium models", NeurIPS 2019.

/// y*(x) on flat tensors, with implicit derivative rules (see the file header).
///
/// - Parameters:
///   - x: the flat outer variable, rank 1.
///   - residual: F(x, y) on flat tensors, of y's shape.
///   - symmetric: whether ∂_y F is symmetric.
///   - mixedProduct: (x, y, λ) ↦ ∇_x ⟨λ, F(x, y)⟩ when there is a cheaper way than reverse
///     over reverse (for argmin, forward over reverse: d/dt ∇_x g(x, y + t λ)).
///   - solveValue: y*(x) for a constant x, on flat tensors (records its own entry); it may
///     leave the recorded Aᵀ at (x, y*) in the cache for the first derivative solve.
func implicitFunction(
  at x: Tensor, residual: @escaping (Tensor, Tensor) -> Tensor, symmetric: Bool, linearSolver: LinearSolver,
  record: ImplicitRecord?, layer: String, mixedProduct: ((Tensor, Tensor, Tensor) -> Tensor)? = nil,
  solveValue: @escaping (Tensor, RecordedOperatorCache) -> Tensor
) -> Tensor {
  let m = x.scalarCount
  let cache = RecordedOperatorCache()
  // The Jacobian ∂_y F(x, y) as an operator with parameters p = [x; y].
  func jacobianY(_ p: Tensor, _ u: Tensor) -> Tensor {
    let (x, y) = (p.slicing(0..<m), p.slicing(m..<p.scalarCount))
    return jvp(at: y, direction: u) { y in residual(x, y) }.tangent
  }
  // For the numerical solves (constant p): Aᵀ u by sweeping one recorded tape of
  // y ↦ F(x, y) per product, as `implicitHypergradient`'s recorded Hessian does; for a
  // symmetric A that is A u too.
  let recordedTransposed: (Tensor) -> (Tensor) -> Tensor = { p in
    let (x, y) = (p.slicing(0..<m), p.slicing(m..<p.scalarCount))
    return cache.product(x: x, y: y) ?? pullback(at: y) { y in residual(x, y) }
  }
  let op = FlatLinearOperator(
    apply: jacobianY,
    applyTransposed: { p, u in
      let (x, y) = (p.slicing(0..<m), p.slicing(m..<p.scalarCount))
      return pullback(at: y) { y in residual(x, y) }(u)
    },
    symmetric: symmetric, prepare: symmetric ? recordedTransposed : nil, prepareTransposed: recordedTransposed)
  let layer = differentiableFunction(
    { x in solveValue(x, cache) },
    jvp: { x, y, tangent in
      let rhs = jvp(at: x, direction: tangent) { x in residual(x, y) }.tangent
      return -differentiableLinearSolve(
        rhs, parameters: x.concatenated(with: y), operator: op, solver: linearSolver, record: record, layer: layer)
    },
    vjp: { x, y, cotangent in
      let lambda = differentiableLinearSolve(
        cotangent, parameters: x.concatenated(with: y), operator: op.transposed, solver: linearSolver, record: record,
        layer: layer)
      if let mixedProduct { return -mixedProduct(x, y, lambda) }
      return -gradient(at: x) { x in dot(lambda, residual(x, y)) }
    })
  return layer(x)
}

/// The record of y ↦ F(x, y) (its pullback, Aᵀ) that a value solve made while checking
/// convergence, kept for the derivative rules' first numerical solve at the same (x, y):
/// a warm-started layer then records ∇_y g once, as `implicitHypergradient` does.
final class RecordedOperatorCache {
  private var entry: (x: [Double], y: [Double], product: (Tensor) -> Tensor)?

  func store(x: Tensor, y: Tensor, product: @escaping (Tensor) -> Tensor) {
    entry = (x.scalars, y.scalars, product)
  }

  /// The stored product when (x, y) has the stored values, exactly.
  func product(x: Tensor, y: Tensor) -> ((Tensor) -> Tensor)? {
    guard let entry, x.isConstant, y.isConstant, entry.x == x.scalars, entry.y == y.scalars else { return nil }
    self.entry = nil  // used once: the record (a whole forward pass of g) is not kept alive
    return entry.product
  }
}

/// Rank-1 views of x and y and the maps back, with the layouts held as constants.
private struct FlatLayouts<X: TensorStructure, Y: TensorStructure> {
  let x: X
  let y: Y
  init(_ x: X, _ y: Y) {
    self.x = x.mapTensors { withoutDerivative(at: $0) }
    self.y = y.mapTensors { withoutDerivative(at: $0) }
  }
  func structuredX(_ flat: Tensor) -> X { x.unflattened(flat) }
  func structuredY(_ flat: Tensor) -> Y { y.unflattened(flat) }

  /// `map` on flat tensors, its value checked to have y's layout.
  func flat(_ map: @escaping (X, Y) -> Y, operation: String) -> (Tensor, Tensor) -> Tensor {
    { x, y in
      let value = map(structuredX(x), structuredY(y))
      self.y.requireSameLayout(value, operation: operation)
      return value.flattened()
    }
  }
}

/// Stops with a message unless `value`, computed from constants, is constant: otherwise the
/// layer's closure captured a tensor being differentiated, whose derivative the layer would
/// silently lose.
private func requireNoCapturedDerivatives(_ value: Tensor, layer: String, closure: String) {
  require(
    value.isConstant,
    "\(layer): \(closure) captures a tensor that is being differentiated; pass everything \(closure) depends on through x"
  )
}

/// Stops with a message naming `layer` unless its options are valid.
private func requireLayerOptions(_ layer: String, tolerance: Double, maxIterations: Int, linearSolver: LinearSolver) {
  require(tolerance >= 0, "\(layer): tolerance must be non-negative, got \(tolerance)")
  require(maxIterations >= 0, "\(layer): maxIterations must be non-negative, got \(maxIterations)")
  if let problem = linearSolver.validate() { fatalError("\(layer): \(problem)") }
}

/// y*(x) = argmin_y g(x, y) as a differentiable value: forward mode, reverse mode, Hessians
/// and higher derivatives of anything computed from it go through the implicit function
/// theorem, not through the inner solver's iterations.
///
/// ```
/// reverse:  x̄ = −∇²_xy g · (∇²_yy g)⁻¹ ȳ      (one linear solve, one mixed product)
/// forward:  ẏ = −(∇²_yy g)⁻¹ ∇²_yx g ẋ         (one linear solve per tangent)
/// ```
/// both at (x, y*(x)), with the linear solves themselves differentiable (`linearSolve`), so
/// that second and third derivatives are exact up to the solvers' tolerances.
///
/// ```swift
/// let F: (Tensor) -> Tensor = { x in f(x, argmin(at: x, from: y0) { x, y in g(x, y) }) }
/// let grad = gradient(at: x, of: F)          // the hypergradient
/// let H = hessian(at: x, of: F)              // Newton on the outer problem
/// ```
///
/// The value is `solveInner`'s (truncated Newton by default) from y0. Every solve, at
/// every order, is recorded in `record` when one is given: an inner problem stopped early,
/// a linear solve out of budget or negative curvature is flagged there, never silent.
/// `.neumann` and `.identity` are allowed and approximate: their derivatives are those of
/// the approximate inverse. Everything g depends on that is differentiated must come in
/// through x: a captured tensor that is being differentiated stops the program with a
/// message (its derivative would otherwise be lost).
///
/// - Parameters:
///   - x: the outer variable (a tensor or any structure).
///   - y0: the inner solver's starting point (its value is used, not its derivatives).
///   - tolerance: the inner solve's target ‖∇_y g‖.
///   - maxIterations: the inner solver's budget.
///   - method: the inner solver.
///   - linearSolver: the solver of the derivative rules' systems in ∇²_yy g.
///   - record: where the solves are recorded.
///   - g: the inner objective, returning one value.
/// - Returns: y*(x), of y0's structure.
/// - Complexity: one inner solve for the value; one linear solve per tangent or cotangent.
public func argmin<X: TensorStructure, Y: TensorStructure>(
  at x: X, from y0: Y, tolerance: Double = 1e-10, maxIterations: Int = 500,
  method: InnerSolverMethod = .newtonConjugateGradient,
  linearSolver: LinearSolver = .conjugateGradient(maxIterations: 1000, tolerance: 1e-12), record: ImplicitRecord? = nil,
  of g: @escaping (X, Y) -> Tensor
) -> Y {
  requireLayerOptions("argmin", tolerance: tolerance, maxIterations: maxIterations, linearSolver: linearSolver)
  let layouts = FlatLayouts(x, y0)
  let flatG: (Tensor, Tensor) -> Tensor = { x, y in
    let value = g(layouts.structuredX(x), layouts.structuredY(y))
    require(value.scalarCount == 1, "argmin: g must return one value, got shape \(value.shape)")
    return value
  }
  let start = layouts.y.flattened()
  let inner = BilevelProblem(outer: { _, _ in Tensor(0) }, inner: flatG)
  let y = implicitFunction(
    at: x.flattened(), residual: { x, y in gradient(at: y) { y in flatG(x, y) } }, symmetric: true,
    linearSolver: linearSolver, record: record, layer: "argmin",
    mixedProduct: { x, y, lambda in jvp(at: y, direction: lambda) { y in gradient(at: x) { x in flatG(x, y) } }.tangent
    }
  ) { x, cache in
    // A warm start that already solves the problem (‖∇_y g‖ ≤ tolerance) is checked with
    // a recorded gradient, whose pullback is then the first derivative solve's Hessian.
    let (gradientY, hessian) = valueWithPullback(at: start) { y in gradient(at: y) { y in flatG(x, y) } }
    requireNoCapturedDerivatives(gradientY, layer: "argmin", closure: "g")
    let startNorm = euclideanNorm(gradientY)
    if startNorm <= tolerance {
      cache.store(x: x, y: start, product: hessian)
      record?.append(
        ImplicitRecord.Entry(
          kind: .value, layer: "argmin", iterations: 0, residualNorm: startNorm, converged: true, indefinite: false,
          diagnostics: ""))
      return start
    }
    let solution = inner.solveInner(x: x, y0: start, tolerance: tolerance, maxIterations: maxIterations, method: method)
    record?.append(
      ImplicitRecord.Entry(
        kind: .value, layer: "argmin", iterations: solution.iterations, residualNorm: solution.gradientNorm,
        converged: solution.converged, indefinite: false, diagnostics: solution.diagnostics))
    return solution.solution
  }
  return layouts.structuredY(y)
}

/// The solution y*(x) of F(x, y) = 0 as a differentiable value (see `argmin`, which is the
/// root of ∇_y g).
///
/// ```
/// forward:  ẏ = −(∂_y F)⁻¹ ∂_x F ẋ,     reverse:  x̄ = −(∂_x F)ᵀ (∂_y F)⁻ᵀ ȳ
/// ```
/// The value comes from `solve` when given, else from Newton's method with a halving line
/// search on ‖F‖ and `linearSolver` for the Newton systems.
///
/// - Parameters:
///   - x: the outer variable (a tensor or any structure).
///   - y0: the starting point (its value is used, not its derivatives).
///   - tolerance: the target ‖F(x, y)‖.
///   - maxIterations: Newton's budget.
///   - linearSolver: the solver of systems in ∂_y F (nonsymmetric in general: GMRES).
///   - record: where the solves are recorded.
///   - solve: a solver of your own, (x, y0) ↦ y with F(x, y) ≈ 0, on constants.
///   - F: the residual, of y's layout.
/// - Returns: y*(x), of y0's structure.
public func root<X: TensorStructure, Y: TensorStructure>(
  at x: X, from y0: Y, tolerance: Double = 1e-10, maxIterations: Int = 100,
  linearSolver: LinearSolver = .gmres(maxIterations: 1000, restart: 50, tolerance: 1e-12),
  record: ImplicitRecord? = nil, solve: ((_ x: X, _ y0: Y) -> Y)? = nil, of F: @escaping (X, Y) -> Y
) -> Y {
  requireLayerOptions("root", tolerance: tolerance, maxIterations: maxIterations, linearSolver: linearSolver)
  let layouts = FlatLayouts(x, y0)
  let residual = layouts.flat(F, operation: "root: F's value")
  let start = layouts.y.flattened()
  let y = implicitFunction(
    at: x.flattened(), residual: residual, symmetric: false, linearSolver: linearSolver, record: record, layer: "root"
  ) { x, _ in
    requireNoCapturedDerivatives(residual(x, start), layer: "root", closure: "F")
    let (y, iterations): (Tensor, Int)
    if let solve {
      (y, iterations) = (solve(layouts.structuredX(x), layouts.y).flattened(), 0)
    } else {
      (y, iterations) = newtonRoot(
        residual, x: x, y0: start, tolerance: tolerance, maxIterations: maxIterations, linearSolver: linearSolver)
    }
    let norm = euclideanNorm(residual(x, y))
    let converged = norm <= tolerance
    record?.append(
      ImplicitRecord.Entry(
        kind: .value, layer: "root", iterations: iterations, residualNorm: norm, converged: converged,
        indefinite: false,
        diagnostics: converged
          ? "" : "‖F(x, y)‖ = \(norm) above the tolerance \(tolerance) after \(iterations) iterations"))
    return y
  }
  return layouts.structuredY(y)
}

/// Newton's method for F(x, ·) = 0 on constants, halving the step until ‖F‖ decreases.
private func newtonRoot(
  _ residual: @escaping (Tensor, Tensor) -> Tensor, x: Tensor, y0: Tensor, tolerance: Double, maxIterations: Int,
  linearSolver: LinearSolver
) -> (Tensor, Int) {
  var y = y0
  var r = residual(x, y)
  var norm = euclideanNorm(r)
  var iterations = 0
  while norm > tolerance && iterations < maxIterations && norm.isFinite {
    iterations += 1
    let jacobian = FlatLinearOperator(
      apply: { _, u in jvp(at: y, direction: u) { y in residual(x, y) }.tangent },
      applyTransposed: { _, u in pullback(at: y) { y in residual(x, y) }(u) }, symmetric: false)
    let step = numericalLinearSolve(
      jacobian, parameters: Tensor.zeros([0]), rightHandSide: r, solver: linearSolver, record: nil, layer: "root")
    var t = 1.0
    var accepted = false
    for _ in 0..<30 {
      let candidate = y - t * step
      let candidateResidual = residual(x, candidate)
      let candidateNorm = euclideanNorm(candidateResidual)
      if candidateNorm < norm {
        (y, r, norm, accepted) = (candidate, candidateResidual, candidateNorm, true)
        break
      }
      t *= 0.5
    }
    if !accepted { break }
  }
  return (y, iterations)
}

/// The fixed point y*(x) = T(x, y*(x)) as a differentiable value: a deep-equilibrium
/// layer, or the limit of an iterative solver.
///
/// ```
/// forward:  ẏ = (I − ∂_y T)⁻¹ ∂_x T ẋ,     reverse:  x̄ = (∂_x T)ᵀ (I − ∂_y T)⁻ᵀ ȳ
/// ```
/// The value is the limit of y ← T(x, y) from y0, stopped when ‖T(x, y) − y‖ ≤ tolerance;
/// T should be a contraction in y near y*. Derivatives as for `root` with
/// F(x, y) = T(x, y) − y.
///
/// - Parameters:
///   - x: the outer variable (a tensor or any structure).
///   - y0: the starting point (its value is used, not its derivatives).
///   - tolerance: the target ‖T(x, y) − y‖.
///   - maxIterations: the most iterations of T.
///   - linearSolver: the solver of systems in I − ∂_y T (nonsymmetric in general: GMRES).
///   - record: where the solves are recorded.
///   - T: the map, of y's layout.
/// - Returns: y*(x), of y0's structure.
public func fixedPoint<X: TensorStructure, Y: TensorStructure>(
  at x: X, from y0: Y, tolerance: Double = 1e-10, maxIterations: Int = 1000,
  linearSolver: LinearSolver = .gmres(maxIterations: 1000, restart: 50, tolerance: 1e-12),
  record: ImplicitRecord? = nil, of T: @escaping (X, Y) -> Y
) -> Y {
  requireLayerOptions("fixedPoint", tolerance: tolerance, maxIterations: maxIterations, linearSolver: linearSolver)
  let layouts = FlatLayouts(x, y0)
  let map = layouts.flat(T, operation: "fixedPoint: T's value")
  let start = layouts.y.flattened()
  let y = implicitFunction(
    at: x.flattened(), residual: { x, y in map(x, y) - y }, symmetric: false, linearSolver: linearSolver,
    record: record, layer: "fixedPoint"
  ) { x, _ in
    var y = start
    var next = map(x, y)
    requireNoCapturedDerivatives(next, layer: "fixedPoint", closure: "T")
    var norm = euclideanNorm(next - y)
    var iterations = 0
    while norm > tolerance && iterations < maxIterations && norm.isFinite {
      y = next
      next = map(x, y)
      norm = euclideanNorm(next - y)
      iterations += 1
    }
    let converged = norm <= tolerance
    record?.append(
      ImplicitRecord.Entry(
        kind: .value, layer: "fixedPoint", iterations: iterations, residualNorm: norm, converged: converged,
        indefinite: false,
        diagnostics: converged
          ? "" : "‖T(x, y) − y‖ = \(norm) above the tolerance \(tolerance) after \(iterations) iterations"))
    return converged ? next : y
  }
  return layouts.structuredY(y)
}
