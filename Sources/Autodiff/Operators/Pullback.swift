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
  valueWithPullbackOfStructures(at: x, of: f)
}

/// The body of `valueWithPullback(at:of:)`, shared by its overloads.
@usableFromInline
func valueWithPullbackOfStructures<P: TensorStructure, Q: TensorStructure>(
  at x: P, of f: (P) -> Q
) -> (value: Q, pullback: (Q) -> P) {
  var output: Q? = nil
  let (values, backward) = reverseTrace(at: x.tensors, operation: "pullback(at:of:)") { tracers in
    let value = f(x.replacingTensors(with: tracers))
    output = value
    return value.tensors
  }
  let value = output!.replacingTensors(with: values)
  return (
    value,
    { cotangent in
      requireMatchingLayout(cotangent, value, role: "cotangent", reference: "the value", operation: "pullback(at:of:)")
      return x.replacingTensors(with: backward(cotangent.tensors, false))
    }
  )
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
  valueWithPullbackOfStructures(at: x, y, of: f)
}

/// The body of `valueWithPullback(at:_:of:)`, shared by its overloads.
@usableFromInline
func valueWithPullbackOfStructures<P: TensorStructure, Q: TensorStructure, R: TensorStructure>(
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
  return (
    value,
    { cotangent in
      requireMatchingLayout(
        cotangent, value, role: "cotangent", reference: "the value", operation: "pullback(at:_:of:)")
      let adjoints = backward(cotangent.tensors, false)
      return (
        x.replacingTensors(with: Array(adjoints[..<xs.count])), y.replacingTensors(with: Array(adjoints[xs.count...]))
      )
    }
  )
}

// MARK: - Tensor to tensor
//
// With both the argument and the value generic, Swift cannot pick among `Tensor`'s
// overloads of `*` in a closure such as `{ x in x * 2 }` (2 may be a `Double` or a
// `Tensor` literal). These overloads fix the types to `Tensor` and forward to the generic
// operators' bodies; they add no behaviour.

/// `valueWithPullback(at:of:)` for a function from a tensor to a tensor.
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: f(x) and c ↦ cᵀ J_f(x).
@inlinable
public func valueWithPullback(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
  valueWithPullbackOfStructures(at: x, of: f)
}

/// `pullback(at:of:)` for a function from a tensor to a tensor.
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: c ↦ cᵀ J_f(x).
@inlinable
public func pullback(at x: Tensor, of f: (Tensor) -> Tensor) -> (Tensor) -> Tensor {
  valueWithPullbackOfStructures(at: x, of: f).pullback
}

/// `valueWithPullback(at:_:of:)` for a function of two tensors to a tensor.
///
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: the function.
/// - Returns: f(x, y) and c ↦ (cᵀ ∂f/∂x, cᵀ ∂f/∂y).
@inlinable
public func valueWithPullback(
  at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor
) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
  valueWithPullbackOfStructures(at: x, y, of: f)
}
