import Autodiff

// A linear solve that is itself a differentiable operation, with implicit derivative
// rules (as JAX's `lax.custom_linear_solve`): its derivatives never differentiate the
// solver's iterations.
//
//   v = A(p)⁻¹ b
//   forward:  v̇ = A⁻¹ (ḃ − Ȧ v),        Ȧ v = d/dt A(p + t ṗ) v
//   reverse:  b̄ = A⁻ᵀ v̄,   p̄ = −∇_p ⟨b̄, A(p) v⟩
//
// Both rules are written in differentiable operations and call this solve again, so the
// solve nests to any order. A(p) u must be linear in u; p carries everything A depends on.

/// The parameters of a linear operator and its action, on flat tensors.
struct FlatLinearOperator {
  /// u ↦ A(p) u, linear in u, differentiable in p and u.
  let apply: (_ p: Tensor, _ u: Tensor) -> Tensor
  /// u ↦ A(p)ᵀ u.
  let applyTransposed: (_ p: Tensor, _ u: Tensor) -> Tensor
  /// Whether A = Aᵀ (then the transposed solve is the same solve).
  let symmetric: Bool
  /// For constant parameters, a faster u ↦ A(p) u for the numerical solver's many products
  /// (for instance one recorded tape swept per product); nil: `apply` itself.
  var prepare: ((_ p: Tensor) -> (Tensor) -> Tensor)? = nil
  /// The same for Aᵀ.
  var prepareTransposed: ((_ p: Tensor) -> (Tensor) -> Tensor)? = nil

  /// The transposed operator.
  var transposed: FlatLinearOperator {
    symmetric
      ? self
      : FlatLinearOperator(
        apply: applyTransposed, applyTransposed: apply, symmetric: false, prepare: prepareTransposed,
        prepareTransposed: prepare)
  }
}

/// Solves A(p) v = b numerically on constants, recording the solve.
func numericalLinearSolve(
  _ op: FlatLinearOperator, parameters p: Tensor, rightHandSide b: Tensor, solver: LinearSolver,
  record: ImplicitRecord?, layer: String
) -> Tensor {
  let n = b.scalarCount
  let product = op.prepare?(p) ?? { u in op.apply(p, u) }
  let apply: (Tensor) -> Tensor = { u in
    let result = product(u)
    // p and u are constants here: a non-constant product means the operator captured a
    // tensor being differentiated, whose derivative the solve would lose.
    require(
      result.isConstant,
      "\(layer): the linear operator captures a tensor that is being differentiated; pass it in through `parameters` (or x for argmin, root and fixedPoint)"
    )
    return result
  }
  let result: LinearSolveResult
  if case .dense = solver, !op.symmetric {
    // The dense solver symmetrizes; a nonsymmetric operator is solved by LU.
    let matrix = denseMatrix(shape: b.shape, apply: apply)
    let solution = DenseFactorizations.luSolve(matrix.scalars, n: n, b.scalars)
    let v = Tensor(shape: b.shape, scalars: solution ?? [Double](repeating: .nan, count: n))
    let residual = solution == nil ? Double.nan : euclideanNorm(apply(v) - b)
    result = LinearSolveResult(
      solution: v, iterations: n, residualNorm: residual, converged: solution != nil && residual.isFinite,
      diagnostics: solution == nil ? ["the linear operator is singular"] : [])
  } else {
    result = solver.solve(LinearOperator(shape: b.shape, apply: apply), rightHandSide: b, initialGuess: nil)
  }
  var diagnostics = result.diagnostics
  if !result.converged && diagnostics.isEmpty {
    diagnostics.append(
      "\(solver.name) stopped after \(result.iterations) iterations with residual \(result.residualNorm)")
  }
  record?.append(
    ImplicitRecord.Entry(
      kind: .linearSolve, layer: layer, iterations: result.iterations, residualNorm: result.residualNorm,
      converged: result.converged, indefinite: result.indefinite, diagnostics: diagnostics.joined(separator: "; ")))
  return result.solution
}

/// v = A(p)⁻¹ b as a differentiable function of b and p (see the file header).
func differentiableLinearSolve(
  _ b: Tensor, parameters p: Tensor, operator op: FlatLinearOperator, solver: LinearSolver,
  record: ImplicitRecord?, layer: String
) -> Tensor {
  let (n, m) = (b.scalarCount, p.scalarCount)
  let bShape = b.shape
  // One operand, z = [b; p], so that the solve is one primitive of the engine.
  func split(_ z: Tensor) -> (b: Tensor, p: Tensor) {
    (z.slicing(0..<n).reshaped(to: bShape), m == 0 ? Tensor.zeros([0]) : z.slicing(n..<(n + m)))
  }
  let solve = differentiableFunction(
    { z in
      let (b, p) = split(z)
      return numericalLinearSolve(op, parameters: p, rightHandSide: b, solver: solver, record: record, layer: layer)
    },
    jvp: { z, v, tangent in
      let (_, p) = split(z)
      let (bDot, pDot) = split(tangent)
      let aDotV = m == 0 ? Tensor.zeros(bShape) : jvp(at: p, direction: pDot) { p in op.apply(p, v) }.tangent
      return differentiableLinearSolve(
        bDot - aDotV, parameters: p, operator: op, solver: solver, record: record, layer: layer)
    },
    vjp: { z, v, cotangent in
      let (_, p) = split(z)
      let bBar = differentiableLinearSolve(
        cotangent, parameters: p, operator: op.transposed, solver: solver, record: record, layer: layer)
      if m == 0 { return bBar.reshaped(to: [n]) }
      let pBar = -gradient(at: p) { p in dot(bBar, op.apply(p, v)) }
      return bBar.reshaped(to: [n]).concatenated(with: pBar)
    })
  let z = m == 0 ? b.reshaped(to: [n]) : b.reshaped(to: [n]).concatenated(with: p)
  return solve(z)
}

/// The solution v of A v = b for a linear operator A that depends on `parameters`, as a
/// differentiable value: derivatives with respect to b and to the parameters, in every
/// mode and to any order, by implicit rules rather than through the solver's iterations.
///
/// ```
/// v = A(p)⁻¹ b
/// forward:  v̇ = A⁻¹ (ḃ − Ȧ v),             Ȧ v = d/dt A(p + t ṗ) v
/// reverse:  b̄ = A⁻ᵀ v̄,   p̄ = −∇_p ⟨b̄, A(p) v⟩
/// ```
/// The rules are written in the engine's operations and call this solve again, so `hvp`,
/// `hessian` and third derivatives through it are exact up to the solver's tolerance
/// (JAX's `lax.custom_linear_solve` takes the same approach).
///
/// ```swift
/// let v = linearSolve(b, parameters: [A]) { p, u in matmul(p[0], u) }  // A⁻¹ b, A symmetric
/// ```
///
/// Everything the operator depends on and that should be differentiated must come in
/// through `parameters`; a captured tensor that is being differentiated stops the program
/// with a message (its derivative would otherwise be lost).
///
/// - Parameters:
///   - b: the right-hand side.
///   - parameters: p, what the operator depends on (any structure; `[]` for none).
///   - symmetric: whether A(p) is symmetric; a nonsymmetric operator's transpose is
///     obtained by reverse mode through `operator`.
///   - solver: the numerical solver (conjugate gradient needs A symmetric positive
///     definite; use `.gmres` or `.dense` otherwise).
///   - record: where every numerical solve (value and derivative rules) is recorded.
///   - operator: (p, u) ↦ A(p) u, linear in u, of u's shape.
/// - Returns: v, of b's shape.
/// - Complexity: one numerical solve for the value; one more per tangent (forward) or per
///   cotangent (reverse), plus one operator product differentiated in p.
public func linearSolve<P: TensorStructure>(
  _ b: Tensor, parameters: P, symmetric: Bool = true,
  solver: LinearSolver = .conjugateGradient(maxIterations: 1000, tolerance: 1e-12), record: ImplicitRecord? = nil,
  operator linearMap: @escaping (_ parameters: P, _ u: Tensor) -> Tensor
) -> Tensor {
  if let problem = solver.validate() { fatalError("linearSolve: \(problem)") }
  let layout = parameters.mapTensors { withoutDerivative(at: $0) }
  let apply: (Tensor, Tensor) -> Tensor = { p, u in
    let result = linearMap(layout.unflattened(p), u)
    require(
      result.shape == u.shape, "linearSolve: the operator returned shape \(result.shape) for u of shape \(u.shape)")
    return result
  }
  let op = FlatLinearOperator(
    apply: apply,
    applyTransposed: { p, u in gradient(at: withoutDerivative(at: u)) { w in dot(u, apply(p, w)) } },
    symmetric: symmetric)
  return differentiableLinearSolve(
    b, parameters: parameters.flattened(), operator: op, solver: solver, record: record, layer: "linearSolve")
}
