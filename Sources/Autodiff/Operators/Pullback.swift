// Vector-Jacobian products of functions of any output shape (reverse mode).

/// The value of `f` at `x` and its pullback: the map from a cotangent c of the value's
/// shape to the vector-Jacobian product.
///
/// ```
/// pullback(c)[i] = sum_j c[j] ∂f[j]/∂x[i] (x)
/// ```
/// The function is evaluated once; each pullback call sweeps the recorded tape once, so a
/// pullback may be called many times (for example once per row of a Jacobian).
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: f(x) and the pullback.
/// - Complexity: each pullback call costs a small constant times evaluating f.
public func valueWithPullback(
  at x: Tensor, of f: (Tensor) -> Tensor
) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
  let (value, backward) = reverseTrace(at: [x], operation: "pullback(at:of:)") { f($0[0]) }
  return (value, { cotangent in backward(cotangent, false)[0] })
}

/// The pullback of `f` at `x`: c ↦ c^T J_f(x).
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: the pullback, taking a cotangent of f(x)'s shape to a tensor of x's shape.
public func pullback(at x: Tensor, of f: (Tensor) -> Tensor) -> (Tensor) -> Tensor {
  valueWithPullback(at: x, of: f).pullback
}

/// The value of a function of two tensors and its pullback, which maps a cotangent c of
/// the value's shape to both vector-Jacobian products.
///
/// ```
/// pullback(c) = (c^T ∂f/∂x (x, y), c^T ∂f/∂y (x, y))
/// ```
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: the function.
/// - Returns: f(x, y) and the pullback.
public func valueWithPullback(
  at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor
) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
  let (value, backward) = reverseTrace(at: [x, y], operation: "pullback(at:_:of:)") { f($0[0], $0[1]) }
  return (value, { cotangent in
    let adjoints = backward(cotangent, false)
    return (adjoints[0], adjoints[1])
  })
}
