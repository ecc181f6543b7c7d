// Operations that rearrange values: reshape, transpose, row gathers and scatters,
// concatenation and slices. Each one's VJP is another operation of this file.

@usableFromInline
struct Reshape: UnaryPrimitive {
  @usableFromInline let target: TensorShape
  @inlinable init(target: TensorShape) { self.target = target }
  /// Shares the storage: a reshape copies nothing.
  @inlinable func evaluate(_ x: Tensor) -> Tensor { Tensor(shape: target, storage: x.storage, offset: x.offset) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { tangent.reshaped(to: target) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    tangents.reshaped(to: [tangents.shape[0]] + target)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { cotangent.reshaped(to: x.shape) }
}

@usableFromInline
struct Transpose: UnaryPrimitive {
  @usableFromInline let permutation: [Int]
  @inlinable init(permutation: [Int]) { self.permutation = permutation }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { transposeKernel(x, permutation: permutation) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  /// The batch axis stays first; the others move as x's do.
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    apply(Transpose(permutation: [0] + permutation.map { $0 + 1 }), tangents)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    var inverse = permutation
    for (k, axis) in permutation.enumerated() { inverse[axis] = k }
    return apply(Transpose(permutation: inverse), cotangent)
  }
  @inlinable static var vjpIgnoresOperands: Bool { true }
}

/// A row operation (gather or scatter, which work on matrices) applied to every member of
/// a batch [B, rows, columns] at once: the batch's members side by side as one matrix
/// [rows, B · columns], the operation, and back.
@inlinable
internal func rowsWithBatch(_ tangents: Tensor, outputRows: Int, _ operation: (Tensor) -> Tensor) -> Tensor {
  let (count, rows) = (tangents.shape[0], tangents.shape[1])
  let columns = Array(tangents.shape.dropFirst(2))
  let swap = [1, 0] + Array(2..<tangents.rank)
  let side = apply(Transpose(permutation: swap), tangents).reshaped(to: [rows, -1])
  let result = operation(side).reshaped(to: [outputRows, count] + columns)
  return apply(Transpose(permutation: swap), result)
}

@usableFromInline
struct GatherRows: UnaryPrimitive {
  @usableFromInline let indices: [Int]
  @inlinable init(indices: [Int]) { self.indices = indices }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { gatherRowsKernel(x, indices) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    rowsWithBatch(tangents, outputRows: value.shape[0]) { apply(self, $0) }
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(ScatterAddRows(indices: indices, rowCount: x.shape[0]), cotangent)
  }
}

@usableFromInline
struct ScatterAddRows: UnaryPrimitive {
  @usableFromInline let indices: [Int]
  @usableFromInline let rowCount: Int
  @inlinable init(indices: [Int], rowCount: Int) {
    self.indices = indices
    self.rowCount = rowCount
  }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { scatterAddRowsKernel(x, indices, rowCount: rowCount) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    rowsWithBatch(tangents, outputRows: value.shape[0]) { apply(self, $0) }
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(GatherRows(indices: indices), cotangent)
  }
}

@usableFromInline
struct Concatenate: BinaryPrimitive {
  @usableFromInline let axis: Int
  @inlinable init(axis: Int) { self.axis = axis }
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor { concatenateKernel(a, b, axis: axis) }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    apply(self, tangentA ?? Tensor.zeros(a.shape), tangentB ?? Tensor.zeros(b.shape))
  }
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    return apply(
      Concatenate(axis: axis + 1), tangentsA ?? zeroBatch(count, a.shape), tangentsB ?? zeroBatch(count, b.shape))
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    let split = a.shape[axis]
    return (
      wrtA ? apply(Slice(axis: axis, range: 0..<split), cotangent) : nil,
      wrtB ? apply(Slice(axis: axis, range: split..<value.shape[axis]), cotangent) : nil
    )
  }
}

@usableFromInline
struct Slice: UnaryPrimitive {
  @usableFromInline let axis: Int
  @usableFromInline let range: Range<Int>
  @inlinable init(axis: Int, range: Range<Int>) {
    self.axis = axis
    self.range = range
  }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { sliceKernel(x, axis: axis, range: range) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    apply(Slice(axis: axis + 1, range: range), tangents)
  }
  /// Pads the cotangent with zeros back to x's extent along `axis`.
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(Pad(axis: axis, before: range.lowerBound, after: x.shape[axis] - range.upperBound), cotangent)
  }
  /// The slice's window in x: a second contribution to x's adjoint is added in place there.
  @inlinable func adjointWindow(x: Tensor) -> AdjointWindow? {
    AdjointWindow(parentShape: x.shape, axis: axis, range: range)
  }
}

/// a with b added into its values at `range` along `axis`: how the tape accumulates a
/// slice's adjoint into its parent's when they are traced (the inner sweep of a
/// reverse-over-reverse HVP), in one pass where padding b and adding would take two.
/// Its VJP: the cotangent for a, its slice for b.
@usableFromInline
struct AddIntoWindow: BinaryPrimitive {
  @usableFromInline let axis: Int
  @usableFromInline let range: Range<Int>
  @inlinable init(axis: Int, range: Range<Int>) {
    self.axis = axis
    self.range = range
  }
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    var result = a
    addIntoWindowKernel(&result, b, axis: axis, range: range)
    return result
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    combine(tangentA, tangentB, axis: axis, shape: a.shape)
  }
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    return combine(tangentsA, tangentsB, axis: axis + 1, shape: [count] + a.shape)
  }
  /// `da` with `db` added into its window (along `axis` of tensors of `shape`); nil is zero.
  @inlinable func combine(_ da: Tensor?, _ db: Tensor?, axis: Int, shape: TensorShape) -> Tensor {
    switch (da, db) {
    case (let da?, let db?): return apply(AddIntoWindow(axis: axis, range: range), da, db)
    case (let da?, nil): return da
    case (nil, let db?):
      return apply(Pad(axis: axis, before: range.lowerBound, after: shape[axis] - range.upperBound), db)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? cotangent : nil, wrtB ? apply(Slice(axis: axis, range: range), cotangent) : nil)
  }
}

/// Zeros around a tensor along one axis: the VJP of a slice, and a slice its VJP.
@usableFromInline
struct Pad: UnaryPrimitive {
  @usableFromInline let axis: Int
  @usableFromInline let before: Int
  @usableFromInline let after: Int
  @inlinable init(axis: Int, before: Int, after: Int) {
    self.axis = axis
    self.before = before
    self.after = after
  }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { padKernel(x, axis: axis, before: before, after: after) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    apply(Pad(axis: axis + 1, before: before, after: after), tangents)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(Slice(axis: axis, range: before..<(before + x.shape[axis])), cotangent)
  }
}

extension Tensor {
  /// The same values, row-major, in a new shape. Copies nothing.
  ///
  /// A single dimension may be -1; it is inferred from the count.
  /// - Precondition: the new shape holds exactly `scalarCount` values.
  @inlinable
  public func reshaped(to newShape: TensorShape) -> Tensor {
    var target = newShape
    if let inferred = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
      require(known > 0 && scalarCount % known == 0, "reshaped(to:): cannot reshape \(shape) to \(newShape)")
      target[inferred] = scalarCount / known
    }
    require(
      checkedScalarCount(target, operation: "reshaped(to:)") == scalarCount,
      "reshaped(to:): cannot reshape \(shape) (\(scalarCount) values) to \(newShape)")
    if target == shape { return self }
    return apply(Reshape(target: target), self)
  }

  /// The same values in a new shape written as an array (`reshaped(to: [2, -1])`).
  ///
  /// - Parameter newShape: the shape; a single dimension may be -1, inferred from the count.
  /// - Returns: the reshaped tensor (a view).
  @inlinable
  public func reshaped(to newShape: [Int]) -> Tensor {
    // The -1 resolved first, so that only the final shape is made (a shape holding -1 is
    // interned for the life of the process: `TensorShape`).
    guard let inferred = newShape.firstIndex(of: -1) else { return reshaped(to: TensorShape(newShape)) }
    let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
    guard known > 0 && scalarCount % known == 0 else { return reshaped(to: TensorShape(newShape)) }
    var resolved = newShape
    resolved[inferred] = scalarCount / known
    return reshaped(to: TensorShape(resolved))
  }

  /// The transpose: the axes in reverse order (for a matrix, rows become columns).
  @inlinable
  public func transposed() -> Tensor {
    rank < 2 ? self : apply(Transpose(permutation: Array((0..<rank).reversed())), self)
  }

  /// The axes permuted: axis k of the result is axis `permutation[k]` of this tensor.
  /// - Precondition: `permutation` is a permutation of `0..<rank`.
  @inlinable
  public func transposed(permutation: [Int]) -> Tensor {
    require(
      permutation.sorted() == Array(0..<rank),
      "transposed(permutation:): \(permutation) is not a permutation of the axes of shape \(shape)")
    return permutation == Array(0..<rank) ? self : apply(Transpose(permutation: permutation), self)
  }

  /// The rows of a matrix at `rows`, in that order; repeats allowed (mini-batches).
  ///
  /// Derivative: the adjoint rows are added back into the selected rows.
  /// - Precondition: the tensor has rank 2 (or rank 1, read as a column) and every index
  ///   is in `0..<shape[0]`.
  @inlinable
  public func gathering(rows: [Int]) -> Tensor {
    require(rank == 1 || rank == 2, "gathering(rows:): needs a rank-1 or rank-2 tensor, got shape \(shape)")
    for row in rows {
      require(row >= 0 && row < shape[0], "gathering(rows:): row \(row) is out of range for shape \(shape)")
    }
    if rows.count == shape[0] && rows.elementsEqual(0..<shape[0]) { return self }  // the whole tensor, in order
    if rank == 1 { return reshaped(to: [shape[0], 1]).gathering(rows: rows).reshaped(to: [rows.count]) }
    return apply(GatherRows(indices: rows), self)
  }

  /// This tensor followed by `other` along `axis`.
  /// - Precondition: the ranks agree and the shapes agree off `axis`.
  @inlinable
  public func concatenated(with other: Tensor, alongAxis axis: Int = 0) -> Tensor {
    require(
      rank == other.rank && rank > 0,
      "concatenated(with:alongAxis:): shapes \(shape) and \(other.shape) have different ranks")
    let axis = normalizedAxes([axis], operation: "concatenated(with:alongAxis:)")[0]
    for k in 0..<rank where k != axis {
      require(
        shape[k] == other.shape[k],
        "concatenated(with:alongAxis:): shapes \(shape) and \(other.shape) differ off axis \(axis)")
    }
    return apply(Concatenate(axis: axis), self, other)
  }

  /// The elements with indices in `range` along `axis` (a contiguous slice).
  ///
  /// Derivative: the adjoint is padded with zeros outside the slice.
  /// - Precondition: `range` lies within `0..<shape[axis]`.
  @inlinable
  public func slicing(_ range: Range<Int>, alongAxis axis: Int = 0) -> Tensor {
    let axis = normalizedAxes([axis], operation: "slicing(_:alongAxis:)")[0]
    require(
      range.lowerBound >= 0 && range.upperBound <= shape[axis],
      "slicing(_:alongAxis:): range \(range) is out of bounds for axis \(axis) of shape \(shape)")
    if range.count == shape[axis] { return self }
    return apply(Slice(axis: axis, range: range), self)
  }
}
