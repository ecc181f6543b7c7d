// Full Jacobians and Hessians.

/// The Jacobian of `f` at `x`: every partial derivative of every output.
///
/// ```
/// jacobian[i..., j...] = ∂f[i...]/∂x[j...] (x)
/// ```
/// A `Tensor` argument or value keeps its shape in the result; any other structure
/// counts as one flat axis over its scalars in order (its tensors in order, each
/// row-major), so for structures the Jacobian is a matrix of shape
/// [f(x).scalarCount, x.scalarCount].
///
/// Uses reverse mode (one trace, one backward sweep per output) when f has at most as
/// many outputs as inputs, forward mode (one JVP per input) otherwise. The result is
/// differentiable when called inside another operator.
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: the function.
/// - Returns: a tensor of shape rows + columns, where rows is f(x)'s shape (or
///   [f(x).scalarCount] for a structure) and columns is x's shape (or [x.scalarCount]).
/// - Complexity: min(outputs, inputs) gradient-sized passes.
public func jacobian<P: TensorStructure, Q: TensorStructure>(at x: P, of f: (P) -> Q) -> Tensor {
  jacobianOfStructures(at: x, of: f)
}

/// `jacobian(at:of:)` for a function from a tensor to a tensor (an overload that fixes
/// both types, so that closures like `{ x in x * 2 }` type-check; no other behaviour).
///
/// - Parameters:
///   - x: the point.
///   - f: the function.
/// - Returns: a tensor of shape f(x).shape + x.shape.
@inlinable
public func jacobian(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  jacobianOfStructures(at: x, of: f)
}

/// The body of `jacobian`, shared by its overloads.
@usableFromInline
func jacobianOfStructures<P: TensorStructure, Q: TensorStructure>(at x: P, of f: (P) -> Q) -> Tensor {
  let inputCount = x.scalarCount
  let (value, pullback) = valueWithPullback(at: x, of: f)
  let outputCount = value.scalarCount
  let rowShape = (value as? Tensor)?.shape ?? [outputCount]
  let columnShape = (x as? Tensor)?.shape ?? [inputCount]
  if outputCount == 0 || inputCount == 0 { return Tensor.zeros(rowShape + columnShape) }
  if outputCount <= inputCount {
    let zeros = value.zeros
    let rows = (0..<outputCount).map { i -> Tensor in
      pullback(basisStructure(i, like: zeros)).flattened()
    }
    return Tensor(stacking: rows).reshaped(to: rowShape + columnShape)
  }
  let zeros = x.zeros
  let columns = (0..<inputCount).map { j -> Tensor in
    jvp(at: x, direction: basisStructure(j, like: zeros), of: f).tangent.flattened()
  }
  return Tensor(stacking: columns).transposed().reshaped(to: rowShape + columnShape)
}

/// The Hessian ∇²f(x) of a scalar function: the Jacobian of its gradient.
///
/// ```
/// hessian[i..., j...] = ∂²f/∂x[i...]∂x[j...] (x)
/// ```
/// For a structure x the Hessian is the n × n matrix over its scalars flattened in order
/// (n = x.scalarCount): the blocks ∂²f/∂x_a∂x_b of its tensors a, b in order.
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: a function returning a one-element tensor.
/// - Returns: a tensor of shape x.shape + x.shape, or [n, n] for a structure.
/// - Complexity: one gradient trace and n backward sweeps.
public func hessian<P: TensorStructure>(at x: P, of f: (P) -> Tensor) -> Tensor {
  jacobianOfStructures(at: x) { x in gradient(at: x, of: f) }
}

/// `hessian(at:of:)` for a function of a tensor (an overload that fixes the argument type,
/// so that literal points keep working; no other behaviour).
///
/// - Parameters:
///   - x: the point.
///   - f: a function returning a one-element tensor.
/// - Returns: a tensor of shape x.shape + x.shape.
@inlinable
public func hessian(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
  jacobianOfStructures(at: x) { x in gradient(at: x, of: f) }
}

/// The tensor of `shape` that is 1 at flat index `index` and 0 elsewhere.
func basisVector(_ index: Int, shape: [Int]) -> Tensor {
  var values = [Double](repeating: 0, count: shape.reduce(1, *))
  values[index] = 1
  return Tensor(shape: shape, scalars: values)
}

/// The value of `zeros`' layout that is 1 at flat index `index` (over its scalars in
/// order) and 0 elsewhere.
func basisStructure<S: TensorStructure>(_ index: Int, like zeros: S) -> S {
  var offset = 0
  return zeros.mapTensors { tensor in
    defer { offset += tensor.scalarCount }
    guard index >= offset && index < offset + tensor.scalarCount else { return tensor }
    return basisVector(index - offset, shape: tensor.shape)
  }
}
