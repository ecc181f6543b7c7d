// Kernels that move values: transposition, row gathers and scatters, concatenation, slices.

/// `x` with its axes permuted: result axis k is input axis `permutation[k]`.
@inlinable
func transposeKernel(_ x: Tensor, permutation: [Int]) -> Tensor {
  let inStrides = contiguousStrides(x.shape)
  let shape = TensorShape(permutation.map { x.shape[$0] })
  let strides = permutation.map { inStrides[$0] }
  let result = TensorStorage.make(uninitializedCount: x.scalarCount)
  let out = result.base
  x.withUnsafeScalars { px in
    let base = px.baseAddress.unsafelyUnwrapped
    if shape.count == 2 {
      // Blocked so that both reads and writes stay in cache.
      let rows = shape[0]
      let columns = shape[1]
      let rowStride = strides[0]
      let columnStride = strides[1]
      let block = 32
      for i0 in stride(from: 0, to: rows, by: block) {
        for j0 in stride(from: 0, to: columns, by: block) {
          for i in i0..<Swift.min(i0 + block, rows) {
            for j in j0..<Swift.min(j0 + block, columns) {
              out[i * columns + j] = base[i * rowStride + j * columnStride]
            }
          }
        }
      }
      return
    }
    if x.scalarCount == 0 { return }
    if shape.isEmpty {
      out[0] = base[0]
      return
    }
    let inner = shape[shape.count - 1]
    let step = strides[strides.count - 1]
    forEachRow(of: shape, stridesA: strides, stridesB: strides) { start, offset, _ in
      for j in 0..<inner { out[start + j] = base[offset + j * step] }
    }
  }
  return Tensor(shape: shape, storage: result)
}

/// The rows of rank-2 `x` at `indices`, in order (repeats allowed).
@inlinable
func gatherRowsKernel(_ x: Tensor, _ indices: [Int]) -> Tensor {
  let columns = x.shape[1]
  let result = TensorStorage.make(uninitializedCount: indices.count * columns)
  x.withUnsafeScalars { px in
    let base = px.baseAddress.unsafelyUnwrapped
    for (k, row) in indices.enumerated() {
      (result.base + k * columns).update(from: base + row * columns, count: columns)
    }
  }
  return Tensor(shape: TensorShape(rows: indices.count, columns: columns), storage: result)
}

/// A `rowCount`-row matrix whose row r is the sum of the rows k of `x` with `indices[k] == r`.
@inlinable
func scatterAddRowsKernel(_ x: Tensor, _ indices: [Int], rowCount: Int) -> Tensor {
  let columns = x.shape[1]
  let result = TensorStorage.make(repeating: 0, count: rowCount * columns)
  x.withUnsafeScalars { px in
    let base = px.baseAddress.unsafelyUnwrapped
    for (k, row) in indices.enumerated() {
      let destination = result.base + row * columns
      let source = base + k * columns
      for j in 0..<columns { destination[j] += source[j] }
    }
  }
  return Tensor(shape: TensorShape(rows: rowCount, columns: columns), storage: result)
}

/// `a` and `b` joined along `axis` (shapes agree elsewhere).
@inlinable
func concatenateKernel(_ a: Tensor, _ b: Tensor, axis: Int) -> Tensor {
  var shape = a.shape
  shape[axis] += b.shape[axis]
  let outer = a.shape[..<axis].reduce(1, *)
  let chunkA = a.shape[axis...].reduce(1, *)
  let chunkB = b.shape[axis...].reduce(1, *)
  let result = TensorStorage.make(uninitializedCount: outer * (chunkA + chunkB))
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      var destination = result.base
      for i in 0..<outer {
        if chunkA > 0 { destination.update(from: pa.baseAddress! + i * chunkA, count: chunkA) }
        destination += chunkA
        if chunkB > 0 { destination.update(from: pb.baseAddress! + i * chunkB, count: chunkB) }
        destination += chunkB
      }
    }
  }
  return Tensor(shape: shape, storage: result)
}

/// The part of `x` with indices in `range` along `axis`.
@inlinable
func sliceKernel(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
  var shape = x.shape
  shape[axis] = range.count
  let outer = x.shape[..<axis].reduce(1, *)
  let inner = x.shape[(axis + 1)...].reduce(1, *)
  // A contiguous range (nothing but axes of extent 1 before `axis`): a view, no copy.
  if outer == 1 { return Tensor(shape: shape, storage: x.storage, offset: x.offset + range.lowerBound * inner) }
  let chunk = x.shape[axis] * inner
  let piece = range.count * inner
  let result = TensorStorage.make(uninitializedCount: outer * piece)
  x.withUnsafeScalars { px in
    if piece == 0 { return }
    let base = px.baseAddress.unsafelyUnwrapped
    for i in 0..<outer {
      (result.base + i * piece).update(from: base + i * chunk + range.lowerBound * inner, count: piece)
    }
  }
  return Tensor(shape: shape, storage: result)
}

/// Adds `piece` into the values of `a` at `range` along `axis`: in place when `a` holds its
/// storage alone, else in one pass into a new buffer (a's values, the window's sums): the
/// adjoint of a slice accumulated into its parent's without padding it to the parent's
/// shape.
/// The additions run on `path`'s vector loops (the reference's values, bit for bit).
/// - Precondition: `piece` has `a`'s shape with `range.count` along `axis`.
@usableFromInline
func addIntoWindowKernel(
  _ a: inout Tensor, _ piece: Tensor, axis: Int, range: Range<Int>, path: KernelPath = .current
) {
  assert(
    piece.shape.elementsEqual(a.shape.enumerated().map { $0.offset == axis ? range.count : $0.element }),
    "addIntoWindowKernel: a piece of shape \(piece.shape) for range \(range) of axis \(axis) of \(a.shape)")
  let outer = a.shape[..<axis].reduce(1, *)
  let inner = a.shape[(axis + 1)...].reduce(1, *)
  let chunk = a.shape[axis] * inner
  let width = range.count * inner
  let start = range.lowerBound * inner
  if width == 0 || outer == 0 { return }
  require(a.lift == nil, "addIntoWindowKernel: the tensor added into is being differentiated")
  if !isKnownUniquelyReferenced(&a.storage) {
    // Shared: one pass writing a new buffer (a's values, the sums in the window) rather than
    // a copy of a and a second pass over the window.
    let result = TensorStorage.make(uninitializedCount: outer * chunk)
    let (x, p, y) = (a.base, piece.base, result.base)
    for i in 0..<outer {
      let (row, out, window) = (x + i * chunk, y + i * chunk, p + i * width)
      out.initialize(from: row, count: start)
      if !vectorElementwise(.add, row + start, window, out + start, count: width, path: path) {
        for j in 0..<width { out[start + j] = row[start + j] + window[j] }
      }
      (out + start + width).initialize(from: row + start + width, count: chunk - start - width)
    }
    a = Tensor(shape: a.shape, storage: result)
    return
  }
  piece.withUnsafeScalars { source in
    let source = source.baseAddress.unsafelyUnwrapped
    a.withUnsafeMutableScalars { target in
      let target = target.baseAddress.unsafelyUnwrapped
      for i in 0..<outer {
        let (y, x) = (target + i * chunk + start, source + i * width)
        if vectorElementwise(.add, y, x, y, count: width, path: path) { continue }
        for j in 0..<width { y[j] += x[j] }
      }
    }
  }
}

/// `x` with `before` zeros in front of and `after` zeros behind its extent along `axis`.
@inlinable
func padKernel(_ x: Tensor, axis: Int, before: Int, after: Int) -> Tensor {
  var shape = x.shape
  shape[axis] += before + after
  let outer = x.shape[..<axis].reduce(1, *)
  let inner = x.shape[(axis + 1)...].reduce(1, *)
  let piece = x.shape[axis] * inner
  let chunk = shape[axis] * inner
  // Each value written once: the zeros around each piece, and the piece (no fill first).
  let result = TensorStorage.make(uninitializedCount: outer * chunk)
  x.withUnsafeScalars { px in
    let base = px.baseAddress
    for i in 0..<outer {
      let row = result.base + i * chunk
      row.initialize(repeating: 0, count: before * inner)
      if let base { (row + before * inner).initialize(from: base + i * piece, count: piece) }
      (row + before * inner + piece).initialize(repeating: 0, count: after * inner)
    }
  }
  return Tensor(shape: shape, storage: result)
}
