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
/// `Docs/Benchmarks.md`). Nests like every other operator. x may be a `Tensor` or any
/// `TensorStructure`; v and the result have x's layout.
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's layout.
///   - mode: how to compose the modes; `.forwardOverReverse` by default.
///   - f: a function returning a one-element tensor.
/// - Returns: ∇²f(x) v, of x's structure.
/// - Precondition: `direction` has x's layout and f returns one value.
/// - Complexity: a small constant times the cost of the gradient (Pearlmutter 1994).
public func hvp<P: TensorStructure>(
  at x: P, direction: P, mode: HVPMode = .forwardOverReverse, of f: (P) -> Tensor
) -> P {
  hvpOfStructures(at: x, direction: direction, mode: mode, of: f)
}

/// `hvp(at:direction:mode:of:)` for a function of a tensor (an overload that fixes the
/// argument type, so that literal points and directions keep working; no other behaviour).
///
/// - Parameters:
///   - x: the point.
///   - direction: v, of x's shape.
///   - mode: how to compose the modes.
///   - f: a function returning a one-element tensor.
/// - Returns: ∇²f(x) v.
@inlinable
public func hvp(
  at x: Tensor, direction: Tensor, mode: HVPMode = .forwardOverReverse, of f: (Tensor) -> Tensor
) -> Tensor {
  hvpOfTensor(at: x, direction: direction, mode: mode, of: f)
}

/// `hvpOfStructures` for a tensor: the same compositions, whose gradients take the
/// one-tensor path (`valueWithGradientOfTensor`, no lists).
@usableFromInline
func hvpOfTensor(at x: Tensor, direction: Tensor, mode: HVPMode, of f: (Tensor) -> Tensor) -> Tensor {
  requireDirection(direction, matches: x, operation: "hvp(at:direction:mode:of:)")
  switch mode {
  case .reverseOverReverse:
    return gradient(at: x) { (x: Tensor) in dot(gradient(at: x, of: f), direction) }
  case .forwardOverReverse:
    return jvpOfTensor(at: x, direction: direction) { (x: Tensor) in gradient(at: x, of: f) }.tangent
  case .reverseOverForward:
    return gradient(at: x) { (x: Tensor) in
      let tangent = jvpOfTensor(at: x, direction: direction, of: f).tangent
      requireScalar(tangent, operation: "hvp(at:direction:mode:of:)")
      return tangent
    }
  }
}

/// The body of `hvp`, shared by its overloads.
@usableFromInline
func hvpOfStructures<P: TensorStructure>(
  at x: P, direction: P, mode: HVPMode, of f: (P) -> Tensor
) -> P {
  requireDirection(direction, matches: x, operation: "hvp(at:direction:mode:of:)")
  switch mode {
  case .reverseOverReverse:
    return gradient(at: x) { x in dot(gradient(at: x, of: f), direction) }
  case .forwardOverReverse:
    return jvp(at: x, direction: direction) { x in gradient(at: x, of: f) }.tangent
  case .reverseOverForward:
    return gradient(at: x) { x in
      let tangent = jvp(at: x, direction: direction, of: f).tangent
      requireScalar(tangent, operation: "hvp(at:direction:mode:of:)")
      return tangent
    }
  }
}
