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
/// many outputs as inputs, forward mode otherwise: batched JVPs (`jvp(at:directions:of:)`)
/// of up to 128 unit directions each, so f is evaluated once per 128 inputs. The result
/// is differentiable when called inside another operator.
///
/// - Parameters:
///   - x: the point (a tensor or any structure).
///   - f: the function.
/// - Returns: a tensor of shape rows + columns, where rows is f(x)'s shape (or
///   [f(x).scalarCount] for a structure) and columns is x's shape (or [x.scalarCount]).
/// - Complexity: reverse mode, one backward sweep per output; forward mode, one batched
///   pass per 128 inputs, which holds each intermediate value of f up to 128 times (once
///   per direction of the batch).
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
  return forwardJacobian(at: x, outputCount: outputCount, of: f).reshaped(to: rowShape + columnShape)
}

/// The Jacobian of f at x as a matrix [f(x).scalarCount, x.scalarCount], in forward mode:
/// the columns in batches, each batch of unit directions pushed through f in one batched
/// JVP (`jvp(at:directions:of:)`), its tangents the Jacobian's columns.
func forwardJacobian<P: TensorStructure, Q: TensorStructure>(at x: P, outputCount: Int, of f: (P) -> Q) -> Tensor {
  let inputCount = x.scalarCount
  var blocks = [Tensor]()
  var start = 0
  while start < inputCount {
    let columns = start..<Swift.min(inputCount, start + jacobianColumnBatch)
    let (_, tangents) = jvp(at: x, directions: basisBatch(columns, like: x), of: f)
    let rows = tangents.tensors.map { $0.reshaped(to: [columns.count, -1]) }
    blocks.append(rows.count == 1 ? rows[0] : Tensor(concatenating: rows, alongAxis: 1))
    start = columns.upperBound
  }
  let byColumn = blocks.count == 1 ? blocks[0] : Tensor(concatenating: blocks, alongAxis: 0)
  return byColumn.transposed().reshaped(to: [outputCount, inputCount])
}

/// The most columns a forward-mode Jacobian pushes through f at once: each intermediate
/// tensor of f is held this many times over.
let jacobianColumnBatch = 128

/// The unit directions e_j, j in `columns`, as a batch in x's layout: every tensor of x
/// with a leading axis of columns.count rows, row r being 1 at flat index
/// columns.lowerBound + r over x's scalars in order.
func basisBatch<S: TensorStructure>(_ columns: Range<Int>, like x: S) -> S {
  var offset = 0
  return x.mapTensors { tensor in
    defer { offset += tensor.scalarCount }
    let count = tensor.scalarCount
    var values = [Double](repeating: 0, count: columns.count * count)
    for (row, j) in columns.enumerated() where j >= offset && j < offset + count {
      values[row * count + (j - offset)] = 1
    }
    return Tensor(shape: [columns.count] + tensor.shape, scalars: values)
  }
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
/// - Complexity: forward-over-reverse in batches of up to 128 columns: one batched JVP of
///   the gradient per batch, each operation on a batch of columns at once (a matrix
///   product's columns become one matrix-matrix product). Memory: each intermediate value
///   of the gradient computation up to 128 times (once per column of a batch); where that
///   is too much, build the columns with `hvp`, one direction at a time.
public func hessian<P: TensorStructure>(at x: P, of f: (P) -> Tensor) -> Tensor {
  hessianOfStructures(at: x, of: f)
}

/// The body of `hessian`, shared by its overloads: the forward-mode Jacobian of the
/// gradient (forward-over-reverse).
@usableFromInline
func hessianOfStructures<P: TensorStructure>(at x: P, of f: (P) -> Tensor) -> Tensor {
  let n = x.scalarCount
  let shape = (x as? Tensor).map { $0.shape + $0.shape } ?? [n, n]
  if n == 0 { return Tensor.zeros(shape) }
  return forwardJacobian(at: x, outputCount: n) { x in gradient(at: x, of: f) }.reshaped(to: shape)
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
  hessianOfStructures(at: x, of: f)
}

/// The tensor of `shape` that is 1 at flat index `index` and 0 elsewhere.
func basisVector(_ index: Int, shape: TensorShape) -> Tensor {
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
