import Autodiff

/// A hypergradient estimate compared with a finite difference of F along one direction.
public struct HypergradientCheck: Sendable {
  /// <estimate, direction>: the estimate's directional derivative.
  public var estimatedDerivative: Double
  /// (F(x + ε d) − F(x − ε d)) / 2ε with each F solving the inner problem tightly.
  public var finiteDifference: Double
  /// |estimated − finite difference| / max(|estimated|, |finite difference|, 1e-12).
  public var relativeDiscrepancy: Double
  /// The ε used.
  public var step: Double
  /// Whether both inner solves converged (if not, the finite difference is suspect).
  public var innerSolvesConverged: Bool
}

extension BilevelProblem {
  /// The outer objective F(x) = f(x, y*(x)) with y* solved to `tolerance` from y0.
  ///
  /// - Returns: F(x) and the inner solution.
  public func outerObjective(x: Tensor, y0: Tensor, tolerance: Double = 1e-12) -> (
    value: Double, inner: InnerSolution<Tensor>
  ) {
    let inner = solveInner(x: x, y0: y0, tolerance: tolerance, maxIterations: 1000)
    return (outer(x, inner.solution).scalar, inner)
  }

  /// Checks a hypergradient estimate against a central finite difference of F along
  /// `direction`: the bilevel counterpart of a gradient check.
  ///
  /// ```
  /// <∇F(x), d>  ≈  (F(x + ε d) − F(x − ε d)) / 2ε,   F(x) = f(x, y*(x))
  /// ```
  /// Each F solves the inner problem tightly (‖∇_y g‖ ≤ 1e-12 when reachable) from y0.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the starting point of the inner solves.
  ///   - direction: d, of x's shape.
  ///   - estimate: the hypergradient to check, of x's shape.
  ///   - step: ε relative to max(1, ‖x‖) / ‖d‖.
  /// - Returns: both numbers and their relative discrepancy; a correct estimate typically
  ///   agrees to 1e-6 or better.
  public func checkHypergradient(
    x: Tensor, y0: Tensor, direction: Tensor, estimate: Tensor, step: Double = 1e-5
  ) -> HypergradientCheck {
    require(
      direction.shape == x.shape,
      "checkHypergradient: direction of shape \(direction.shape) does not match x's shape \(x.shape)")
    require(
      estimate.shape == x.shape,
      "checkHypergradient: estimate of shape \(estimate.shape) does not match x's shape \(x.shape)")
    let directionNorm = euclideanNorm(direction)
    require(directionNorm > 0, "checkHypergradient: the direction is zero")
    let epsilon = step * max(1, euclideanNorm(x)) / directionNorm
    let plus = outerObjective(x: x + epsilon * direction, y0: y0)
    let minus = outerObjective(x: x - epsilon * direction, y0: y0)
    let finiteDifference = (plus.value - minus.value) / (2 * epsilon)
    let estimated = innerProduct(estimate, direction)
    let discrepancy = abs(estimated - finiteDifference) / max(abs(estimated), abs(finiteDifference), 1e-12)
    return HypergradientCheck(
      estimatedDerivative: estimated, finiteDifference: finiteDifference, relativeDiscrepancy: discrepancy,
      step: epsilon, innerSolvesConverged: plus.inner.converged && minus.inner.converged)
  }
}
