// Gradients of scalar functions (reverse mode), of a tensor or of any structure of tensors.

/// The value of `f` at `x` and its gradient ∇f(x), in one forward and one backward pass.
///
/// ```
/// gradient[i] = ∂f/∂x[i] (x)
/// ```
/// `x` may be a `Tensor` or any `TensorStructure` (an array or dictionary of tensors, a
/// model's parameter struct); the gradient comes back in x's structure, one tensor per
/// tensor of x. May be called inside any other differential operator's closure: the result
/// is then differentiable with respect to the enclosing operator's variables.
///
/// ```swift
/// let p: [String: Tensor] = ["w": w, "b": b]
/// let (value, grads) = valueWithGradient(at: p) { p in loss(p["w"]!, p["b"]!) }
/// ```
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x) and the gradient, of x's structure and shapes.
/// - Precondition: f returns exactly one value.
/// - Complexity: a small constant times the cost of evaluating f, plus O(1) per tensor of x.
public func valueWithGradient<P: TensorStructure>(
  at x: P, of f: (P) -> Tensor
) -> (value: Tensor, gradient: P) {
  valueWithGradientOfStructures(at: x, of: f)
}

/// The body of `valueWithGradient(at:of:)`, shared by its overloads.
@usableFromInline
func valueWithGradientOfStructures<P: TensorStructure>(
  at x: P, of f: (P) -> Tensor
) -> (value: Tensor, gradient: P) {
  let (values, backward) = reverseTrace(at: x.tensors, operation: "gradient(at:of:)") {
    [f(x.replacingTensors(with: $0))]
  }
  requireScalar(values[0], operation: "gradient(at:of:)")
  return (values[0], x.replacingTensors(with: backward([Tensor.ones(values[0].shape)], true)))
}

/// The gradient ∇f(x) of a scalar function of a tensor or of any structure of tensors.
///
/// ```swift
/// let gs: [Tensor] = gradient(at: [w, b]) { p in loss(p[0], p[1]) }
/// ```
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: the gradient, of x's structure and shapes.
/// - Precondition: f returns exactly one value.
public func gradient<P: TensorStructure>(at x: P, of f: (P) -> Tensor) -> P {
  valueWithGradient(at: x, of: f).gradient
}

/// The value of a scalar function of two arguments and both partial gradients.
///
/// ```
/// gradient = (∂f/∂x (x, y), ∂f/∂y (x, y))
/// ```
/// Each argument may be a `Tensor` or any `TensorStructure`.
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x, y) and the partial gradients, of x's and y's structures.
/// - Precondition: f returns exactly one value.
public func valueWithGradient<P: TensorStructure, Q: TensorStructure>(
  at x: P, _ y: Q, of f: (P, Q) -> Tensor
) -> (value: Tensor, gradient: (P, Q)) {
  valueWithGradientOfStructures(at: x, y, of: f)
}

/// The body of `valueWithGradient(at:_:of:)`, shared by its overloads.
@usableFromInline
func valueWithGradientOfStructures<P: TensorStructure, Q: TensorStructure>(
  at x: P, _ y: Q, of f: (P, Q) -> Tensor
) -> (value: Tensor, gradient: (P, Q)) {
  let xs = x.tensors
  let (values, backward) = reverseTrace(at: xs + y.tensors, operation: "gradient(at:_:of:)") { tracers in
    [f(x.replacingTensors(with: Array(tracers[..<xs.count])), y.replacingTensors(with: Array(tracers[xs.count...])))]
  }
  requireScalar(values[0], operation: "gradient(at:_:of:)")
  let adjoints = backward([Tensor.ones(values[0].shape)], true)
  return (
    values[0],
    (x.replacingTensors(with: Array(adjoints[..<xs.count])), y.replacingTensors(with: Array(adjoints[xs.count...])))
  )
}

/// Both partial gradients of a scalar function of two arguments.
///
/// - Parameters:
///   - x: the first argument (a tensor or any structure).
///   - y: the second argument (a tensor or any structure).
///   - f: a function returning a one-element tensor.
/// - Returns: (∂f/∂x, ∂f/∂y), of x's and y's structures.
/// - Precondition: f returns exactly one value.
public func gradient<P: TensorStructure, Q: TensorStructure>(
  at x: P, _ y: Q, of f: (P, Q) -> Tensor
) -> (P, Q) {
  valueWithGradient(at: x, y, of: f).gradient
}

// MARK: - Tensor arguments
//
// These overloads fix the argument type to `Tensor`, so that literals keep working as
// they did before the operators became generic (`gradient(at: [1.0, 2.0]) { ... }`, where
// the literal can only become a `Tensor` once the parameter type is known). They forward
// to the generic operators' bodies and add no behaviour.

/// `valueWithGradient(at:of:)` for a function of a tensor.
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x) and ∇f(x).
@inlinable
public func valueWithGradient(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, gradient: Tensor) {
  valueWithGradientOfTensor(at: x, operation: "gradient(at:of:)", of: f)
}

/// `gradient(at:of:)` for a function of a tensor.
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: ∇f(x).
@inlinable
public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  valueWithGradientOfTensor(at: x, operation: "gradient(at:of:)", of: f).gradient
}

/// `valueWithGradient(at:_:of:)` for a function of two tensors.
///
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x, y) and both partial gradients.
@inlinable
public func valueWithGradient(
  at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor
) -> (value: Tensor, gradient: (Tensor, Tensor)) {
  valueWithGradientOfStructures(at: x, y, of: f)
}

/// `gradient(at:_:of:)` for a function of two tensors.
///
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: a function returning a one-element tensor.
/// - Returns: (∂f/∂x, ∂f/∂y).
@inlinable
public func gradient(at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor) -> (Tensor, Tensor) {
  valueWithGradientOfStructures(at: x, y, of: f).gradient
}
