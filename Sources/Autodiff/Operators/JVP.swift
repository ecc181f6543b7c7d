// Jacobian-vector products (forward mode).

/// The value of `f` at `x` and its directional derivative along `direction`.
///
/// ```
/// tangent = J_f(x) v = d/dt f(x + t v) at t = 0
/// ```
/// Forward mode: one pass that carries (value, tangent) pairs; memory does not grow with
/// the length of the computation.
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's shape.
///   - f: the function.
/// - Returns: f(x) and J_f(x) v, both of f(x)'s shape.
/// - Precondition: `direction` has x's shape.
/// - Complexity: a small constant times the cost of evaluating f.
public func jvp(
  at x: Tensor, direction: Tensor, of f: (Tensor) -> Tensor
) -> (value: Tensor, tangent: Tensor) {
  precondition(
    direction.shape == x.shape,
    "jvp(at:direction:of:): direction of shape \(direction.shape) does not match the point's shape \(x.shape)")
  let tag = Tag.next()
  let output = f(Tensor(dual: x, tangent: direction, tag: tag))
  if let lift = output.lift, lift.tag == tag, let tangent = lift.tangent {
    return (lift.primal, tangent)
  }
  return (output, Tensor.zeros(output.shape))
}

/// The value of `f` at `x` and its differential v ↦ J_f(x) v.
///
/// Each call of the differential evaluates f once more in forward mode (as `jvp` does);
/// to push many directions through one evaluation, use `jacobian(at:of:)`.
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: f(x) and the differential.
public func valueWithDifferential(
  at x: Tensor, of f: @escaping (Tensor) -> Tensor
) -> (value: Tensor, differential: (Tensor) -> Tensor) {
  (f(x), { direction in jvp(at: x, direction: direction, of: f).tangent })
}
