// Gradients of scalar functions (reverse mode).

/// The value of `f` at `x` and its gradient ∇f(x), in one forward and one backward pass.
///
/// ```
/// gradient[i] = ∂f/∂x[i] (x)
/// ```
/// May be called inside any other differential operator's closure: the result is then
/// differentiable with respect to the enclosing operator's variables.
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x) and the gradient, of x's shape.
/// - Precondition: f returns exactly one value.
/// - Complexity: a small constant times the cost of evaluating f.
public func valueWithGradient(
  at x: Tensor, of f: (Tensor) -> Tensor
) -> (value: Tensor, gradient: Tensor) {
  let (value, backward) = reverseTrace(at: [x], operation: "gradient(at:of:)") { f($0[0]) }
  precondition(
    value.scalarCount == 1,
    "gradient(at:of:): the function must return one value, got shape \(value.shape)")
  return (value, backward(Tensor.ones(value.shape), true)[0])
}

/// The gradient ∇f(x) of a scalar function.
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: the gradient, of x's shape.
/// - Precondition: f returns exactly one value.
public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  valueWithGradient(at: x, of: f).gradient
}

/// The value of a scalar function of two tensors and both partial gradients.
///
/// ```
/// gradient = (∂f/∂x (x, y), ∂f/∂y (x, y))
/// ```
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: a function returning a one-element tensor.
/// - Returns: f(x, y) and the partial gradients, of x's and y's shapes.
/// - Precondition: f returns exactly one value.
public func valueWithGradient(
  at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor
) -> (value: Tensor, gradient: (Tensor, Tensor)) {
  let (value, backward) = reverseTrace(at: [x, y], operation: "gradient(at:_:of:)") { f($0[0], $0[1]) }
  precondition(
    value.scalarCount == 1,
    "gradient(at:_:of:): the function must return one value, got shape \(value.shape)")
  let adjoints = backward(Tensor.ones(value.shape), true)
  return (value, (adjoints[0], adjoints[1]))
}

/// Both partial gradients of a scalar function of two tensors.
///
/// - Parameters:
///   - x: the first argument.
///   - y: the second argument.
///   - f: a function returning a one-element tensor.
/// - Returns: (∂f/∂x, ∂f/∂y), of x's and y's shapes.
/// - Precondition: f returns exactly one value.
public func gradient(at x: Tensor, _ y: Tensor, of f: (Tensor, Tensor) -> Tensor) -> (Tensor, Tensor) {
  valueWithGradient(at: x, y, of: f).gradient
}
