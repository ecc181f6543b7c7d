// Jacobian-vector products (forward mode), of tensors or of any structure of tensors.

/// The value of `f` at `x` and its directional derivative along `direction`.
///
/// ```
/// tangent = J_f(x) v = d/dt f(x + t v) at t = 0
/// ```
/// Forward mode: one pass that carries (value, tangent) pairs; memory does not grow with
/// the length of the computation. x and f(x) may each be a `Tensor` or any
/// `TensorStructure`; the direction has x's layout and the tangent f(x)'s.
///
/// ```swift
/// let (value, derivative) = jvp(at: params, direction: d) { p in loss(p["w"]!, p["b"]!) }
/// ```
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's layout.
///   - f: the function.
/// - Returns: f(x) and J_f(x) v, both of f(x)'s layout.
/// - Precondition: `direction` has x's layout.
/// - Complexity: a small constant times the cost of evaluating f, plus O(1) per tensor.
public func jvp<P: TensorStructure, Q: TensorStructure>(
  at x: P, direction: P, of f: (P) -> Q
) -> (value: Q, tangent: Q) {
  requireDirection(direction, matches: x, operation: "jvp(at:direction:of:)")
  let tag = Tag.next()
  let directions = direction.tensors
  var index = 0
  let duals = x.mapTensors { primal in
    defer { index += 1 }
    return Tensor(dual: primal, tangent: directions[index], tag: tag)
  }
  var tangents = [Tensor]()
  let value = f(duals).mapTensors { output in
    if let lift = output.lift, lift.tag == tag, let tangent = lift.tangent {
      tangents.append(tangent)
      return lift.primal
    }
    tangents.append(Tensor.zeros(output.shape))
    return output
  }
  return (value, value.replacingTensors(with: tangents))
}

/// Stops with a message naming both layouts unless `direction` has x's layout.
func requireDirection<P: TensorStructure>(_ direction: P, matches x: P, operation: String) {
  if let d = direction as? Tensor, let point = x as? Tensor {
    require(
      d.shape == point.shape,
      "\(operation): direction of shape \(d.shape) does not match the point's shape \(point.shape)")
    return
  }
  require(
    x.hasSameLayout(as: direction),
    "\(operation): direction of layout \(direction.layoutDescription) does not match the point's layout \(x.layoutDescription)")
}

/// The value of `f` at `x` and its differential v ↦ J_f(x) v.
///
/// Each call of the differential evaluates f once more in forward mode (as `jvp` does);
/// to push many directions through one evaluation, use `jacobian(at:of:)`.
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: the function.
/// - Returns: f(x) and the differential, taking a direction of x's layout to a tangent of
///   f(x)'s layout.
public func valueWithDifferential<P: TensorStructure, Q: TensorStructure>(
  at x: P, of f: @escaping (P) -> Q
) -> (value: Q, differential: (P) -> Q) {
  (f(x), { direction in jvp(at: x, direction: direction, of: f).tangent })
}
