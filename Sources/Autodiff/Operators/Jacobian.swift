// Full Jacobians and Hessians.

/// The Jacobian of `f` at `x`: every partial derivative of every output.
///
/// ```
/// jacobian[i..., j...] = ∂f[i...]/∂x[j...] (x)
/// ```
/// Uses reverse mode (one trace, one backward sweep per output) when f has at most as
/// many outputs as inputs, forward mode (one JVP per input) otherwise. The result is
/// differentiable when called inside another operator.
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: a tensor of shape f(x).shape + x.shape.
/// - Complexity: min(outputs, inputs) gradient-sized passes.
public func jacobian(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  let inputCount = x.scalarCount
  let (value, backward) = reverseTrace(at: [x], operation: "jacobian(at:of:)") { f($0[0]) }
  let outputCount = value.scalarCount
  if outputCount == 0 || inputCount == 0 { return Tensor.zeros(value.shape + x.shape) }
  if outputCount <= inputCount {
    let rows = (0..<outputCount).map { i -> Tensor in
      backward(basisVector(i, shape: value.shape), false)[0].reshaped(to: [inputCount])
    }
    return Tensor(stacking: rows).reshaped(to: value.shape + x.shape)
  }
  let columns = (0..<inputCount).map { j -> Tensor in
    jvp(at: x, direction: basisVector(j, shape: x.shape), of: f).tangent.reshaped(to: [outputCount])
  }
  return Tensor(stacking: columns).transposed().reshaped(to: value.shape + x.shape)
}

/// The Hessian ∇²f(x) of a scalar function: the Jacobian of its gradient.
///
/// ```
/// hessian[i..., j...] = ∂²f/∂x[i...]∂x[j...] (x)
/// ```
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: a tensor of shape x.shape + x.shape.
/// - Complexity: one gradient trace and n backward sweeps, n = x.scalarCount.
public func hessian(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  jacobian(at: x) { x in gradient(at: x, of: f) }
}

/// The tensor of `shape` that is 1 at flat index `index` and 0 elsewhere.
func basisVector(_ index: Int, shape: [Int]) -> Tensor {
  var values = [Double](repeating: 0, count: shape.reduce(1, *))
  values[index] = 1
  return Tensor(shape: shape, scalars: values)
}
