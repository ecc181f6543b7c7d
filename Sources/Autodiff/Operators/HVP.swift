// Hessian-vector products by composing the two modes.

/// How a Hessian-vector product is composed from forward and reverse mode.
public enum HVPMode: String, CaseIterable, Sendable {
  /// ∇_x <∇f(x), v>: reverse mode through a reverse-mode gradient (Pearlmutter's R-op
  /// done twice in reverse). Records the gradient computation on an outer tape.
  case reverseOverReverse
  /// d/dt ∇f(x + t v): forward mode through a reverse-mode gradient. Usually the
  /// cheapest: one forward pass with duals, one backward pass.
  case forwardOverReverse
  /// ∇_x (J_f(x) v): reverse mode through a forward-mode directional derivative.
  case reverseOverForward
}

/// The Hessian-vector product ∇²f(x) v of a scalar function, without forming the Hessian.
///
/// ```
/// hvp = ∇²f(x) v = d/dt ∇f(x + t v) at t = 0
/// ```
/// All three modes give the same result to rounding; they differ in cost (see
/// `Docs/Benchmarks.md`). Nests like every other operator.
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's shape.
///   - mode: how to compose the modes; `.forwardOverReverse` by default.
///   - f: a function returning a one-element tensor.
/// - Returns: ∇²f(x) v, of x's shape.
/// - Precondition: `direction` has x's shape and f returns one value.
/// - Complexity: a small constant times the cost of the gradient (Pearlmutter 1994).
public func hvp(
  at x: Tensor, direction: Tensor, mode: HVPMode = .forwardOverReverse, of f: (Tensor) -> Tensor
) -> Tensor {
  precondition(
    direction.shape == x.shape,
    "hvp(at:direction:mode:of:): direction of shape \(direction.shape) does not match the point's shape \(x.shape)")
  switch mode {
  case .reverseOverReverse:
    return gradient(at: x) { x in dot(gradient(at: x, of: f), direction) }
  case .forwardOverReverse:
    return jvp(at: x, direction: direction) { x in gradient(at: x, of: f) }.tangent
  case .reverseOverForward:
    return gradient(at: x) { x in
      let tangent = jvp(at: x, direction: direction, of: f).tangent
      precondition(
        tangent.scalarCount == 1,
        "hvp(at:direction:mode:of:): the function must return one value, got shape \(tangent.shape)")
      return tangent
    }
  }
}
