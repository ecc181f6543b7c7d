import Autodiff

/// A bilevel optimization problem given by two closures.
///
/// ```
/// min_x F(x) = f(x, y*(x))   subject to   y*(x) = argmin_y g(x, y)
/// ```
/// `outer` is f and `inner` is g; both take x first and y second and return a
/// one-element tensor (checked on every call: an objective that returns more values, often
/// the result of an unintended NumPy-style broadcast, stops with a message naming it). They are ordinary Swift closures over `Tensor`, or over any
/// `TensorStructure` (a network's parameters as y, several hyperparameters as x): the
/// engine differentiates them to whatever order an estimator needs.
///
/// ```swift
/// let problem = BilevelProblem(
///   outer: { x, y in 0.5 * (y - target).squared().sum() },
///   inner: { x, y in 0.5 * (y * matmul(A, y)).sum() - (y * matmul(B, x)).sum() })
/// let inner = problem.solveInner(x: x, y0: y0)
/// let h = problem.implicitHypergradient(x: x, y: inner.solution, solver: .conjugateGradient())
/// ```
///
/// Over structures, every method takes x and y in the closures' types and answers in them
/// (hypergradients shaped like x, inner solutions shaped like y):
///
/// ```swift
/// let problem = BilevelProblem(
///   outer: { (x: [String: Tensor], y: Network) in validationLoss(y) },
///   inner: { x, y in trainingLoss(y) + x["decay"]! * y.w1.squared().sum() })
/// let h = problem.implicitHypergradient(x: hyper, y: network)   // h.gradient: [String: Tensor]
/// ```
public struct BilevelProblem {
  /// The outer objective f(x, y) on tensors. For a problem over structures, calling it
  /// traps with a message: call the problem's methods with x and y of its types.
  public let outer: (Tensor, Tensor) -> Tensor
  /// The inner objective g(x, y) on tensors, minimized over y. For a problem over
  /// structures, calling it traps with a message, as `outer` does.
  public let inner: (Tensor, Tensor) -> Tensor
  /// The finite-sum structure f = (1/m) Σ_j f_j, g = (1/n) Σ_i g_i, for stochastic
  /// algorithms; nil for a problem given by its full objectives only (and for a problem
  /// over structures until it is given x and y).
  public let finiteSum: FiniteSum?
  /// For a problem over structures: its types and how to build the problem on their flat
  /// scalars for given layouts (see `BilevelProblem+Structures.swift`).
  let structures: StructuredObjectives?

  /// A problem from its outer objective f and inner objective g.
  ///
  /// - Parameters:
  ///   - outer: f(x, y), returning one value.
  ///   - inner: g(x, y), returning one value; y*(x) minimizes it over y.
  public init(
    outer: @escaping (Tensor, Tensor) -> Tensor,
    inner: @escaping (Tensor, Tensor) -> Tensor
  ) {
    self.outer = scalarChecked(outer, "outer objective f(x, y)")
    self.inner = scalarChecked(inner, "inner objective g(x, y)")
    self.finiteSum = nil
    self.structures = nil
  }

  /// A finite-sum problem from mini-batch objectives.
  ///
  /// ```
  /// f(x, y) = (1/m) Σ_{j<m} f_j(x, y),   g(x, y) = (1/n) Σ_{i<n} g_i(x, y)
  /// ```
  /// The closures receive the sample indices of a mini-batch and return the mean of the
  /// per-sample objectives over it (repeats count as often as they appear). The full
  /// objectives `outer` and `inner` are the closures called with every index.
  ///
  /// - Parameters:
  ///   - outerSampleCount: m, the number of outer samples (e.g. validation points).
  ///   - innerSampleCount: n, the number of inner samples (e.g. training points).
  ///   - outer: (x, y, batch) ↦ (1/|B|) Σ_{j∈B} f_j(x, y).
  ///   - inner: (x, y, batch) ↦ (1/|B|) Σ_{i∈B} g_i(x, y).
  /// - Precondition: both counts are positive.
  public init(
    outerSampleCount: Int, innerSampleCount: Int,
    outer: @escaping (Tensor, Tensor, [Int]) -> Tensor,
    inner: @escaping (Tensor, Tensor, [Int]) -> Tensor
  ) {
    require(
      outerSampleCount > 0 && innerSampleCount > 0,
      "BilevelProblem: sample counts must be positive, got \(outerSampleCount) and \(innerSampleCount)")
    let allOuter = Array(0..<outerSampleCount)
    let allInner = Array(0..<innerSampleCount)
    let outer = scalarChecked(outer, "outer objective f(x, y, batch)")
    let inner = scalarChecked(inner, "inner objective g(x, y, batch)")
    self.outer = { x, y in outer(x, y, allOuter) }
    self.inner = { x, y in inner(x, y, allInner) }
    self.finiteSum = FiniteSum(
      outerSampleCount: outerSampleCount, innerSampleCount: innerSampleCount, outerBatch: outer, innerBatch: inner)
    self.structures = nil
  }

  /// A problem of the given parts (the structured initializers build their flat problems
  /// through it).
  init(
    outer: @escaping (Tensor, Tensor) -> Tensor, inner: @escaping (Tensor, Tensor) -> Tensor,
    finiteSum: FiniteSum?, structures: StructuredObjectives?
  ) {
    self.outer = outer
    self.inner = inner
    self.finiteSum = finiteSum
    self.structures = structures
  }

  /// Counted oracles of this problem, starting from zero counts.
  public func makeOracles() -> Oracles { Oracles(problem: self) }
}

/// The finite-sum structure of a stochastic bilevel problem.
public struct FiniteSum {
  /// m, the number of outer samples.
  public let outerSampleCount: Int
  /// n, the number of inner samples.
  public let innerSampleCount: Int
  /// (x, y, batch) ↦ mean of f_j over the batch.
  public let outerBatch: (Tensor, Tensor, [Int]) -> Tensor
  /// (x, y, batch) ↦ mean of g_i over the batch.
  public let innerBatch: (Tensor, Tensor, [Int]) -> Tensor
}

/// `objective` with a check that it returns one value: a shape mistake inside f or g (a
/// broadcast such as `y[2] − t[2, 1]` giving [2, 2]) would otherwise be summed silently
/// by an estimator's seed or change what is minimized.
private func scalarChecked(_ objective: @escaping (Tensor, Tensor) -> Tensor, _ name: String) -> (Tensor, Tensor) ->
  Tensor
{
  { x, y in
    let value = objective(x, y)
    require(
      value.scalarCount == 1,
      "BilevelProblem: the \(name) must return one value, got shape \(value.shape) (check for an unintended broadcast)")
    return value
  }
}

/// `objective` with a check that it returns one value (see the two-argument form).
private func scalarChecked(
  _ objective: @escaping (Tensor, Tensor, [Int]) -> Tensor, _ name: String
) -> (Tensor, Tensor, [Int]) -> Tensor {
  { x, y, batch in
    let value = objective(x, y, batch)
    require(
      value.scalarCount == 1,
      "BilevelProblem: the \(name) must return one value, got shape \(value.shape) (check for an unintended broadcast)")
    return value
  }
}
