import Autodiff

/// A bilevel optimization problem given by two closures.
///
/// ```
/// min_x F(x) = f(x, y*(x))   subject to   y*(x) = argmin_y g(x, y)
/// ```
/// `outer` is f and `inner` is g; both take x first and y second and return a
/// one-element tensor. They are ordinary Swift closures over `Tensor`: the engine
/// differentiates them to whatever order an estimator needs.
///
/// ```swift
/// let problem = BilevelProblem(
///   outer: { x, y in 0.5 * (y - target).squared().sum() },
///   inner: { x, y in 0.5 * (y * matmul(A, y)).sum() - (y * matmul(B, x)).sum() })
/// let inner = problem.solveInner(x: x, y0: y0)
/// let h = problem.implicitHypergradient(x: x, y: inner.solution, solver: .conjugateGradient())
/// ```
public struct BilevelProblem {
  /// The outer objective f(x, y).
  public let outer: (Tensor, Tensor) -> Tensor
  /// The inner objective g(x, y), minimized over y.
  public let inner: (Tensor, Tensor) -> Tensor

  /// A problem from its outer objective f and inner objective g.
  ///
  /// - Parameters:
  ///   - outer: f(x, y), returning one value.
  ///   - inner: g(x, y), returning one value; y*(x) minimizes it over y.
  public init(
    outer: @escaping (Tensor, Tensor) -> Tensor,
    inner: @escaping (Tensor, Tensor) -> Tensor
  ) {
    self.outer = outer
    self.inner = inner
  }

  /// Counted oracles of this problem, starting from zero counts.
  public func makeOracles() -> Oracles { Oracles(problem: self) }
}
