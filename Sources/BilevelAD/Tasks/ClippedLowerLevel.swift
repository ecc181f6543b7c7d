import Autodiff

/// The textbook bilevel problem whose lower level has a constraint, and whose solution
/// map is therefore not differentiable everywhere: a documented limit of implicit
/// differentiation.
///
/// ```
/// y*(x) = argmin_{y ∈ [0, 1]} (y − x)² = clip(x, 0, 1)
/// f(x, y) = (y − 0.8)² + 0.1 x²,   F(x) = (clip(x, 0, 1) − 0.8)² + 0.1 x²
/// ```
/// dy*/dx is 0 for x < 0, 1 for 0 < x < 1 and 0 for x > 1; at x = 0 and x = 1 it does not
/// exist and F has a corner. Unconstrained implicit differentiation would claim
/// dy*/dx = −(∂²g/∂y²)⁻¹ ∂²g/∂y∂x = 1 everywhere, which is wrong outside (0, 1).
/// `hypergradient(at:)` differentiates on the active set instead, and reports the kink
/// (with both one-sided derivatives) rather than a number.
public struct ClippedLowerLevel {
  /// The lower bound 0 and upper bound 1 of y.
  public let bounds: ClosedRange<Double> = 0...1
  /// The problem without the constraint (its inner closure is (y − x)²).
  public let problem = BilevelProblem(
    outer: { x, y in (y - 0.8).squared().sum() + 0.1 * x.squared().sum() },
    inner: { x, y in (y - x).squared().sum() })

  /// The task.
  public init() {}

  /// y*(x) by projected gradient descent on [0, 1] (exact here: clip(x, 0, 1)).
  public func innerSolution(at x: Double) -> Double {
    var y = 0.5
    for _ in 0..<100 { y = min(max(y - 0.5 * 2 * (y - x), bounds.lowerBound), bounds.upperBound) }
    return y
  }

  /// The hypergradient on the active set, or a report of the kink.
  ///
  /// With y* strictly inside the bounds, the implicit function theorem applies to the
  /// free coordinate; with y* at a bound and a non-zero multiplier (strict
  /// complementarity), y* is locally constant. When y* is at a bound with a zero
  /// multiplier, F is not differentiable: the result has `converged == false`, a NaN
  /// gradient and diagnostics giving the one-sided derivatives.
  public func hypergradient(at x: Double, tolerance: Double = 1e-9) -> HypergradientResult<Tensor, Tensor> {
    let y = innerSolution(at: x)
    let xt = Tensor([x])
    let yt = Tensor([y])
    let (fx, fy) = gradient(at: xt, yt, of: problem.outer)
    let multiplier = gradient(at: yt) { problem.inner(xt, $0) }.scalar  // ∂g/∂y at y*
    let atBound = abs(y - bounds.lowerBound) <= tolerance || abs(y - bounds.upperBound) <= tolerance
    var counts = OracleCounts()
    counts.outerGradientX = 1
    counts.outerGradientY = 1
    counts.innerGradientY = 1
    if atBound && abs(multiplier) <= tolerance {
      // Degenerate: the constraint is active with a zero multiplier.
      let inside = fx.scalar + fy.scalar  // dy*/dx = 1 on the interior side
      let outside = fx.scalar  // dy*/dx = 0 on the clipped side
      let (left, right) = y <= bounds.lowerBound + tolerance ? (outside, inside) : (inside, outside)
      return HypergradientResult(
        gradient: Tensor([.nan]), converged: false, residualNorm: 0, iterations: 0, innerGradientNorm: 0,
        counts: counts,
        diagnostics:
          "the lower-level solution y* = \(y) sits on a bound with a zero multiplier (strict complementarity fails): F is not differentiable at x = \(x); left derivative \(left), right derivative \(right)"
      )
    }
    let derivative = atBound ? 0.0 : 1.0  // −(∂²g/∂y²)⁻¹ ∂²g/∂y∂x = −(2)⁻¹(−2) on the free set
    return HypergradientResult(
      gradient: Tensor([fx.scalar + derivative * fy.scalar]), converged: true, residualNorm: 0, iterations: 0,
      innerGradientNorm: atBound ? 0 : abs(multiplier), counts: counts, diagnostics: "")
  }
}
