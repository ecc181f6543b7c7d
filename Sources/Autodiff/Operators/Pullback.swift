// Vector-Jacobian products of functions of any output shape or structure (reverse mode).

/// The value of `f` at `x` and its pullback: the map from a cotangent c of the value's
/// structure to the vector-Jacobian product.
///
/// ```
/// pullback(c)[i] = Σ_j c[j] ∂f[j]/∂x[i] (x)
/// ```
/// x and f(x) may each be a `Tensor` or any `TensorStructure`. The function is evaluated
/// once; each pullback call sweeps the recorded tape once, so a pullback may be called
/// many times (for example once per row of a Jacobian).
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: f(x) and the pullback, taking a cotangent of f(x)'s layout to x's structure.
/// - Precondition: each cotangent has the value's layout.
/// - Complexity: each pullback call costs a small constant times evaluating f.
public func valueWithPullback<P: TensorStructure, Q: TensorStructure>(
  at x: P, of f: (P) -> Q
) -> (value: Q, pullback: (Q) -> P) {
  var output: Q? = nil
  let (values, backward) = reverseTrace(at: x.tensors, operation: "pullback(at:of:)") { tracers in
    let value = f(x.replacingTensors(with: tracers))
    output = value
    return value.tensors
  }
  let value = output!.replacingTensors(with: values)
  return (value, { cotangent in
    value.requireSameLayout(cotangent, operation: "pullback(at:of:)")
    return x.replacingTensors(with: backward(cotangent.tensors, false))
  })
}

/// The pullback of `f` at `x`: c ↦ cᵀ J_f(x).
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: the function.
/// - Returns: the pullback, taking a cotangent of f(x)'s layout to x's structure.
public func pullback<P: TensorStructure, Q: TensorStructure>(at x: P, of f: (P) -> Q) -> (Q) -> P {
  valueWithPullback(at: x, of: f).pullback
}

/// The value of a function of two arguments and its pullback, which maps a cotangent c of
/// the value's layout to both vector-Jacobian products.
///
/// ```
/// pullback(c) = (cᵀ ∂f/∂x (x, y), cᵀ ∂f/∂y (x, y))
/// ```
/// - Parameters:
///   - x: the first argument (a tensor or any structure).
///   - y: the second argument (a tensor or any structure).
///   - f: the function.
/// - Returns: f(x, y) and the pullback.
/// - Precondition: each cotangent has the value's layout.
public func valueWithPullback<P: TensorStructure, Q: TensorStructure, R: TensorStructure>(
  at x: P, _ y: Q, of f: (P, Q) -> R
) -> (value: R, pullback: (R) -> (P, Q)) {
  let xs = x.tensors
  var output: R? = nil
  let (values, backward) = reverseTrace(at: xs + y.tensors, operation: "pullback(at:_:of:)") { tracers in
    let value = f(
      x.replacingTensors(with: Array(tracers[..<xs.count])), y.replacingTensors(with: Array(tracers[xs.count...])))
    output = value
    return value.tensors
  }
  let value = output!.replacingTensors(with: values)
  return (value, { cotangent in
    value.requireSameLayout(cotangent, operation: "pullback(at:_:of:)")
    let adjoints = backward(cotangent.tensors, false)
    return (
      x.replacingTensors(with: Array(adjoints[..<xs.count])), y.replacingTensors(with: Array(adjoints[xs.count...]))
    )
  })
}
