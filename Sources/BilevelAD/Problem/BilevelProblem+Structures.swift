import Autodiff

// Bilevel problems whose x and y are structures of tensors (a network's parameters, a
// dictionary of hyperparameters).
//
// How it works: every estimator, solver and algorithm of this module runs on the problem
// over the flat scalars of x and y, and the structures are rebuilt around each call of
// the user's f and g (one differentiable slice per tensor of the structure; a `Tensor`
// argument is passed through as it is, not flattened). Results come back in the user's
// structures. The derivative operators of `Autodiff` never flatten; here one slice per
// tensor per objective call is the price of running all 31 algorithms, whose iterates are
// single tensors, on any structure. A flat formulation written by hand gives the same
// iterates (tested).

/// A problem over structures: the closures' types, and how to build the problem on the
/// flat scalars of values of given layouts.
struct StructuredObjectives {
  /// The type of x the closures take.
  let xType: Any.Type
  /// The type of y the closures take.
  let yType: Any.Type
  /// The problem over the flat representations of values laid out as `x` and `y`.
  let flatProblem: (_ x: Any, _ y: Any) -> BilevelProblem

  /// "(X, Y)", for messages.
  var typeDescription: String { "(\(xType), \(yType))" }
}

extension TensorStructure {
  /// How this value is represented on a flat problem: a `Tensor` as itself, any other
  /// structure as its scalars in order.
  func flatRepresentation() -> Tensor { (self as? Tensor) ?? flattened() }

  /// The value of this layout represented by `flat` (the inverse of `flatRepresentation`).
  func fromFlatRepresentation(_ flat: Tensor) -> Self {
    if let tensor = flat as? Self, Self.self == Tensor.self { return tensor }
    return unflattened(flat)
  }
}

/// The trap behind `outer` and `inner` of a problem over structures.
private func structuredOnly(_ name: String, _ types: String) -> (Tensor, Tensor) -> Tensor {
  { _, _ in
    fatalError(
      "BilevelProblem.\(name): this problem's objectives take \(types); call the problem's methods with x and y of those types"
    )
  }
}

extension BilevelProblem {
  /// A problem whose outer and inner variables are structures of tensors.
  ///
  /// ```swift
  /// let problem = BilevelProblem(
  ///   outer: { (x: [String: Tensor], y: Network) in validationLoss(y) },
  ///   inner: { x, y in trainingLoss(y) + x["decay"]! * y.w1.squared().sum() })
  /// ```
  /// Every method then takes x and y of these types and answers in them. Internally the
  /// estimators run on the flat scalars of x and y (see this file's header).
  ///
  /// - Parameters:
  ///   - outer: f(x, y), returning one value.
  ///   - inner: g(x, y), returning one value; y*(x) minimizes it over y.
  public init<X: TensorStructure, Y: TensorStructure>(
    outer: @escaping (X, Y) -> Tensor, inner: @escaping (X, Y) -> Tensor
  ) {
    if X.self == Tensor.self && Y.self == Tensor.self {
      self.init(outer: { outer($0 as! X, $1 as! Y) }, inner: { inner($0 as! X, $1 as! Y) })
      return
    }
    let types = "(\(X.self), \(Y.self))"
    let structures = StructuredObjectives(xType: X.self, yType: Y.self) { xLayout, yLayout in
      let (xLayout, yLayout) = (xLayout as! X, yLayout as! Y)
      return BilevelProblem(
        outer: { x, y in outer(xLayout.fromFlatRepresentation(x), yLayout.fromFlatRepresentation(y)) },
        inner: { x, y in inner(xLayout.fromFlatRepresentation(x), yLayout.fromFlatRepresentation(y)) })
    }
    self.init(
      outer: structuredOnly("outer", types), inner: structuredOnly("inner", types), finiteSum: nil,
      structures: structures)
  }

  /// A finite-sum problem over structures, from mini-batch objectives.
  ///
  /// ```
  /// f(x, y) = (1/m) Σ_{j<m} f_j(x, y),   g(x, y) = (1/n) Σ_{i<n} g_i(x, y)
  /// ```
  /// As `init(outerSampleCount:innerSampleCount:outer:inner:)` on tensors, with x and y of
  /// any structure.
  ///
  /// - Parameters:
  ///   - outerSampleCount: m, the number of outer samples.
  ///   - innerSampleCount: n, the number of inner samples.
  ///   - outer: (x, y, batch) ↦ (1/|B|) Σ_{j∈B} f_j(x, y).
  ///   - inner: (x, y, batch) ↦ (1/|B|) Σ_{i∈B} g_i(x, y).
  /// - Precondition: both counts are positive.
  public init<X: TensorStructure, Y: TensorStructure>(
    outerSampleCount: Int, innerSampleCount: Int,
    outer: @escaping (X, Y, [Int]) -> Tensor, inner: @escaping (X, Y, [Int]) -> Tensor
  ) {
    require(
      outerSampleCount > 0 && innerSampleCount > 0,
      "BilevelProblem: sample counts must be positive, got \(outerSampleCount) and \(innerSampleCount)")
    if X.self == Tensor.self && Y.self == Tensor.self {
      self.init(
        outerSampleCount: outerSampleCount, innerSampleCount: innerSampleCount,
        outer: { outer($0 as! X, $1 as! Y, $2) }, inner: { inner($0 as! X, $1 as! Y, $2) })
      return
    }
    let types = "(\(X.self), \(Y.self))"
    let structures = StructuredObjectives(xType: X.self, yType: Y.self) { xLayout, yLayout in
      let (xLayout, yLayout) = (xLayout as! X, yLayout as! Y)
      return BilevelProblem(
        outerSampleCount: outerSampleCount, innerSampleCount: innerSampleCount,
        outer: { x, y, batch in outer(xLayout.fromFlatRepresentation(x), yLayout.fromFlatRepresentation(y), batch) },
        inner: { x, y, batch in inner(xLayout.fromFlatRepresentation(x), yLayout.fromFlatRepresentation(y), batch) })
    }
    let trap: (Tensor, Tensor, [Int]) -> Tensor = { _, _, _ in
      fatalError(
        "BilevelProblem.finiteSum: this problem's objectives take \(types); call the problem's methods with x and y of those types"
      )
    }
    self.init(
      outer: structuredOnly("outer", types), inner: structuredOnly("inner", types),
      finiteSum: FiniteSum(
        outerSampleCount: outerSampleCount, innerSampleCount: innerSampleCount, outerBatch: trap, innerBatch: trap),
      structures: structures)
  }

  /// The problem over the flat representations of x and y, with the layouts to map back.
  ///
  /// - Precondition: x and y have the types the problem's closures take.
  func flatView<X: TensorStructure, Y: TensorStructure>(x: X, y: Y, operation: String) -> FlatView<X, Y> {
    if let structures {
      require(
        X.self == structures.xType && Y.self == structures.yType,
        "\(operation): this problem's objectives take \(structures.typeDescription), got x of type \(X.self) and y of type \(Y.self)"
      )
      return FlatView(
        problem: structures.flatProblem(x, y), x: x.flatRepresentation(), y: y.flatRepresentation(), xLayout: x,
        yLayout: y)
    }
    require(
      X.self == Tensor.self && Y.self == Tensor.self,
      "\(operation): this problem's objectives take (Tensor, Tensor), got x of type \(X.self) and y of type \(Y.self)")
    return FlatView(problem: self, x: x as! Tensor, y: y as! Tensor, xLayout: x, yLayout: y)
  }
}

/// A problem over structures seen on the flat scalars of given layouts.
struct FlatView<X: TensorStructure, Y: TensorStructure> {
  /// The problem on flat x and y.
  let problem: BilevelProblem
  /// x on the flat problem.
  let x: Tensor
  /// y on the flat problem.
  let y: Tensor
  /// A value with x's layout.
  let xLayout: X
  /// A value with y's layout.
  let yLayout: Y

  /// x's structure holding the flat `x`.
  func structuredX(_ x: Tensor) -> X { xLayout.fromFlatRepresentation(x) }
  /// y's structure holding the flat `y`.
  func structuredY(_ y: Tensor) -> Y { yLayout.fromFlatRepresentation(y) }

  /// A flat result with its tensors in x's and y's structures.
  func structured(_ result: HypergradientResult<Tensor, Tensor>) -> HypergradientResult<X, Y> {
    HypergradientResult(
      gradient: structuredX(result.gradient), converged: result.converged, residualNorm: result.residualNorm,
      iterations: result.iterations, innerGradientNorm: result.innerGradientNorm, counts: result.counts,
      diagnostics: result.diagnostics, linearSolution: result.linearSolution.map(structuredY),
      indefinite: result.indefinite, innerSolves: result.innerSolves, innerIterate: result.innerIterate.map(structuredY)
    )
  }

  /// A flat inner solution in y's structure.
  func structured(_ solution: InnerSolution<Tensor>) -> InnerSolution<Y> {
    InnerSolution(
      solution: structuredY(solution.solution), gradientNorm: solution.gradientNorm, iterations: solution.iterations,
      converged: solution.converged, counts: solution.counts, diagnostics: solution.diagnostics)
  }
}

// MARK: - The methods over structures

extension BilevelProblem {
  /// Minimizes g(x, ·) from y0 until ‖∇_y g‖ ≤ tolerance, for x and y of any structure.
  ///
  /// The same method as `solveInner(x:y0:tolerance:maxIterations:method:)` on tensors, on
  /// the flat scalars of y; the solution comes back in y0's structure.
  /// - Parameters:
  ///   - x: the outer variable, held fixed.
  ///   - y0: the starting point.
  ///   - tolerance: the target gradient norm.
  ///   - maxIterations: the most Newton or gradient steps.
  ///   - method: truncated Newton (default) or gradient descent.
  /// - Returns: the last iterate in y0's structure, its gradient norm and whether it converged.
  public func solveInner<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, tolerance: Double = 1e-10, maxIterations: Int = 500,
    method: InnerSolverMethod = .newtonConjugateGradient
  ) -> InnerSolution<Y> {
    let view = flatView(x: x, y: y0, operation: "solveInner")
    return view.structured(
      view.problem.solveInner(x: view.x, y0: view.y, tolerance: tolerance, maxIterations: maxIterations, method: method)
    )
  }

  /// The implicit hypergradient ∇F(x) = ∇_x f − ∇²_xy g [∇²_yy g]⁻¹ ∇_y f at an inner
  /// solution y, for x and y of any structure.
  ///
  /// The same estimator as `implicitHypergradient(x:y:solver:hvpMode:innerTolerance:initialGuess:)`
  /// on tensors, every `LinearSolver` included; `.dense` and `.woodbury` form their
  /// matrices over the flat scalars of y.
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: an inner solution y*(x).
  ///   - solver: the linear solver for ∇²_yy g v = ∇_y f.
  ///   - hvpMode: how Hessian-vector products are composed.
  ///   - innerTolerance: the ‖∇_y g‖ above which y is reported as not an inner solution.
  ///   - initialGuess: a warm start for v, in y's structure.
  /// - Returns: the hypergradient in x's structure, v in y's, and the solver's evidence.
  public func implicitHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y: Y, solver: LinearSolver = .conjugateGradient(), hvpMode: HVPMode = .reverseOverReverse,
    innerTolerance: Double = 1e-6, initialGuess: Y? = nil
  ) -> HypergradientResult<X, Y> {
    let view = flatView(x: x, y: y, operation: "implicitHypergradient")
    if let initialGuess { y.requireSameLayout(initialGuess, operation: "implicitHypergradient: initialGuess") }
    return view.structured(
      view.problem.implicitHypergradient(
        x: view.x, y: view.y, solver: solver, hvpMode: hvpMode, innerTolerance: innerTolerance,
        initialGuess: initialGuess?.flatRepresentation()))
  }

  /// The implicit hypergradient with finite-difference Hessian- and Jacobian-vector
  /// products, for x and y of any structure (see the method on tensors).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: an inner solution y*(x).
  ///   - solver: the linear solver.
  ///   - step: the relative finite-difference step.
  ///   - innerTolerance: the ‖∇_y g‖ above which y is reported as not an inner solution.
  /// - Returns: the estimate in x's structure.
  public func finiteDifferenceHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y: Y, solver: LinearSolver = .conjugateGradient(maxIterations: 100, tolerance: 1e-8),
    step: Double = 1e-5, innerTolerance: Double = 1e-6
  ) -> HypergradientResult<X, Y> {
    let view = flatView(x: x, y: y, operation: "finiteDifferenceHypergradient")
    return view.structured(
      view.problem.finiteDifferenceHypergradient(
        x: view.x, y: view.y, solver: solver, step: step, innerTolerance: innerTolerance))
  }

  /// The hypergradient of K unrolled inner steps, for x and y of any structure (see the
  /// method on tensors for the modes and optimizers).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - steps: K.
  ///   - innerLearningRate: the inner step size.
  ///   - mode: reverse, forward, truncated or checkpointed.
  ///   - optimizer: the inner optimizer.
  ///   - innerTolerance: the ‖∇_y g(x, y_K)‖ above which the result is flagged.
  ///   - forwardMemoryLimit: bytes of column tangents forward mode may keep.
  /// - Returns: the estimate in x's structure, y_K in y0's.
  public func unrolledHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, steps: Int, innerLearningRate: Double, mode: UnrollMode = .reverse,
    optimizer: InnerOptimizer = .gradientDescent, innerTolerance: Double = 1e-6, forwardMemoryLimit: Int = 64 << 20
  ) -> HypergradientResult<X, Y> {
    let view = flatView(x: x, y: y0, operation: "unrolledHypergradient")
    return view.structured(
      view.problem.unrolledHypergradient(
        x: view.x, y0: view.y, steps: steps, innerLearningRate: innerLearningRate, mode: mode, optimizer: optimizer,
        innerTolerance: innerTolerance, forwardMemoryLimit: forwardMemoryLimit))
  }

  /// The hypergradient of the penalized problem f + λ g, for x and y of any structure.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - multiplier: λ.
  ///   - innerTolerance: the inner solves' tolerance.
  /// - Returns: the estimate in x's structure.
  public func penaltyHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, multiplier: Double, innerTolerance: Double = 1e-10
  ) -> HypergradientResult<X, Y> {
    let view = flatView(x: x, y: y0, operation: "penaltyHypergradient")
    return view.structured(
      view.problem.penaltyHypergradient(x: view.x, y0: view.y, multiplier: multiplier, innerTolerance: innerTolerance))
  }

  /// A zero-order hypergradient estimate from values of F, for x and y of any structure.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - samples: random directions.
  ///   - smoothing: the smoothing radius.
  ///   - estimator: the estimator.
  ///   - seed: the directions' seed.
  ///   - innerTolerance: the inner solves' tolerance.
  /// - Returns: the estimate in x's structure.
  public func zeroOrderHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, samples: Int, smoothing: Double, estimator: ZeroOrderEstimator = .antithetic, seed: UInt64 = 0,
    innerTolerance: Double = 1e-10
  ) -> HypergradientResult<X, Y> {
    let view = flatView(x: x, y: y0, operation: "zeroOrderHypergradient")
    return view.structured(
      view.problem.zeroOrderHypergradient(
        x: view.x, y0: view.y, samples: samples, smoothing: smoothing, estimator: estimator, seed: seed,
        innerTolerance: innerTolerance))
  }

  /// F(x) = f(x, y*(x)) with y*(x) solved tightly from y0, for x and y of any structure.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - tolerance: the inner solve's gradient tolerance.
  /// - Returns: F(x) and the inner solution in y0's structure.
  public func outerObjective<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, tolerance: Double = 1e-12
  ) -> (value: Double, inner: InnerSolution<Y>) {
    let view = flatView(x: x, y: y0, operation: "outerObjective")
    let (value, inner) = view.problem.outerObjective(x: view.x, y0: view.y, tolerance: tolerance)
    return (value, view.structured(inner))
  }

  /// Compares ⟨estimate, direction⟩ with a central difference of F along `direction`, for
  /// x and y of any structure.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - direction: a direction of x's layout.
  ///   - estimate: a hypergradient estimate of x's layout.
  ///   - step: the finite-difference step.
  /// - Returns: both directional derivatives and their relative discrepancy.
  /// - Precondition: direction and estimate have x's layout.
  public func checkHypergradient<X: TensorStructure, Y: TensorStructure>(
    x: X, y0: Y, direction: X, estimate: X, step: Double = 1e-5
  ) -> HypergradientCheck {
    x.requireSameLayout(direction, operation: "checkHypergradient: direction")
    x.requireSameLayout(estimate, operation: "checkHypergradient: estimate")
    let view = flatView(x: x, y: y0, operation: "checkHypergradient")
    return view.problem.checkHypergradient(
      x: view.x, y0: view.y, direction: direction.flatRepresentation(), estimate: estimate.flatRepresentation(),
      step: step)
  }

  /// The driver's default evaluation at (x, y) of any structure (see `evaluate(x:y:)`).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: a warm start for the inner solve.
  /// - Returns: F(x) and ‖∇F(x)‖.
  public func evaluate<X: TensorStructure, Y: TensorStructure>(x: X, y: Y) -> Evaluation {
    let view = flatView(x: x, y: y, operation: "evaluate")
    return view.problem.evaluate(x: view.x, y: view.y)
  }
}

/// Runs a bilevel algorithm from (x0, y0) of any structure (see `solve(_:x0:y0:algorithm:...)`
/// on tensors). The algorithm runs on the flat scalars of x and y; the final iterates come
/// back in x0's and y0's structures, and `evaluator` receives them so.
///
/// - Parameters:
///   - problem: the bilevel problem, over X and Y.
///   - x0: the starting outer variable.
///   - y0: the starting inner variable.
///   - algorithm: the algorithm, configured.
///   - stopping: iterations, time, oracle budget and tolerance limits.
///   - evaluateEvery: record every this many iterations (and always the first and last).
///   - evaluator: measures F, ‖∇F‖ and metrics at (x, y); `problem.evaluate` by default.
///   - observe: called with each record; return false to stop the run.
/// - Returns: the final iterates in x0's and y0's structures, the trace and why it stopped.
public func solve<Algorithm: BilevelAlgorithm, X: TensorStructure, Y: TensorStructure>(
  _ problem: BilevelProblem, x0: X, y0: Y, algorithm: Algorithm, stopping: StoppingRule = StoppingRule(),
  evaluateEvery: Int = 1, evaluator: ((X, Y) -> Evaluation)? = nil, observe: ((TraceRecord) -> Bool)? = nil
) -> SolveResult<X, Y> {
  let view = problem.flatView(x: x0, y: y0, operation: "solve")
  let flatEvaluator = evaluator.map { evaluate in
    { (x: Tensor, y: Tensor) in evaluate(view.structuredX(x), view.structuredY(y)) }
  }
  let result = solve(
    view.problem, x0: view.x, y0: view.y, algorithm: algorithm, stopping: stopping, evaluateEvery: evaluateEvery,
    evaluator: flatEvaluator, observe: observe)
  return SolveResult(
    x: view.structuredX(result.x), y: view.structuredY(result.y), trace: result.trace, stopReason: result.stopReason)
}

extension BilevelProblem {
  /// This problem on the flat scalars of x and y: what every estimator and algorithm runs
  /// on, for code that works with single tensors (a plain problem over tensors is
  /// returned as it is).
  ///
  /// - Parameters:
  ///   - x: a value of the outer variable's type and layout.
  ///   - y: a value of the inner variable's type and layout.
  /// - Returns: the flat problem, the flat x and y, and maps back to the structures.
  /// - Precondition: x and y have the types the problem's closures take.
  public func flattened<X: TensorStructure, Y: TensorStructure>(
    x: X, y: Y
  ) -> (problem: BilevelProblem, x: Tensor, y: Tensor, structuredX: (Tensor) -> X, structuredY: (Tensor) -> Y) {
    let view = flatView(x: x, y: y, operation: "flattened(x:y:)")
    return (view.problem, view.x, view.y, view.structuredX, view.structuredY)
  }
}

/// The driver under its former label: `solver:` named the algorithm, a word every other API
/// of this package uses for a `LinearSolver`.
///
/// - Parameters:
///   - problem: the bilevel problem.
///   - x0: the starting outer variable.
///   - y0: the starting inner variable.
///   - solver: the algorithm, configured.
///   - stopping: the stopping rule.
///   - evaluateEvery: record every this many iterations.
///   - evaluator: measures F, ‖∇F‖ and metrics.
///   - observe: called with each record; return false to stop.
/// - Returns: the run's result, as `solve(_:x0:y0:algorithm:...)` returns it.
@available(*, deprecated, renamed: "solve(_:x0:y0:algorithm:stopping:evaluateEvery:evaluator:observe:)")
public func solve<Algorithm: BilevelAlgorithm, X: TensorStructure, Y: TensorStructure>(
  _ problem: BilevelProblem, x0: X, y0: Y, solver: Algorithm, stopping: StoppingRule = StoppingRule(),
  evaluateEvery: Int = 1, evaluator: ((X, Y) -> Evaluation)? = nil, observe: ((TraceRecord) -> Bool)? = nil
) -> SolveResult<X, Y> {
  solve(
    problem, x0: x0, y0: y0, algorithm: solver, stopping: stopping, evaluateEvery: evaluateEvery, evaluator: evaluator,
    observe: observe)
}
