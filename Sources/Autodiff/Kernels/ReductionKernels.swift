// Reductions along any set of axes, without transposing copies.

/// Reduces `x` to `target` (same rank; each axis either kept or reduced to 1) with
/// `combine`, starting every output at `initial`.
///
/// The innermost loop either folds a contiguous row into one value (last axis reduced) or
/// combines a row into a row of the output (last axis kept); both vectorize.
@inlinable @inline(__always)
func reduceKernel(
  _ x: Tensor, to target: TensorShape, initial: Double, _ combine: (Double, Double) -> Double
) -> Tensor {
  assert(target.count == x.rank)
  let count = target.reduce(1, *)
  let result = TensorStorage.make(repeating: initial, count: count)
  let out = result.base
  if x.scalarCount == 0 { return Tensor(shape: target, storage: result) }
  let outStrides = broadcastStrides(of: target, to: x.shape)
  let inner = x.shape.last ?? 1
  let lastReduced = (outStrides.last ?? 0) == 0 && inner > 1
  x.withUnsafeScalars { px in
    let base = px.baseAddress.unsafelyUnwrapped
    if x.rank == 0 {
      out[0] = combine(out[0], base[0])
      return
    }
    forEachRow(of: x.shape, stridesA: outStrides, stridesB: outStrides) { start, offset, _ in
      let row = base + start
      if lastReduced {
        var accumulator = out[offset]
        for j in 0..<inner { accumulator = combine(accumulator, row[j]) }
        out[offset] = accumulator
      } else {
        let destination = out + offset
        for j in 0..<inner { destination[j] = combine(destination[j], row[j]) }
      }
    }
  }
  return Tensor(shape: target, storage: result)
}

/// The sum of `x` reduced to `target` (a shape `x` broadcasts to from it, of any rank).
///
/// When the reduced axes are the trailing ones (a full sum, or a sum over the last axes of
/// each row), each row is summed with `contiguousSum`'s eight accumulators; otherwise
/// `reduceKernel` folds rows into rows.
@inlinable
func sumKernel(_ x: Tensor, to target: TensorShape) -> Tensor {
  // Whole (see `broadcastShape`): appended one axis at a time only up to rank 3.
  let padded =
    x.rank <= 3
    ? TensorShape(repeating: 1, count: x.rank - target.count) + target
    : TensorShape([Int](repeating: 1, count: x.rank - target.count) + target)
  // The first axis from which every axis of `padded` is reduced to 1.
  var split = padded.count
  while split > 0 && padded[split - 1] == 1 { split -= 1 }
  let keptCount = padded[0..<split].reduce(1, *)
  let trailingReduced = split < x.rank && Array(x.shape[0..<split]) == Array(padded[0..<split])
  if trailingReduced && x.scalarCount >= 16 {
    let inner = keptCount == 0 ? 0 : x.scalarCount / keptCount
    let result = TensorStorage.make(uninitializedCount: keptCount)
    x.withUnsafeScalars { px in
      let base = px.baseAddress.unsafelyUnwrapped
      // A long row in pieces, whether it is the whole tensor or one of several rows: the
      // same values sum to the same bits in every layout (x[i].sum() is row i of
      // x.sum(squeezingAxes: 1), a batch's row its single tangent's sum).
      if inner >= 2 * elementwiseParallelGrain {
        for row in 0..<keptCount { result.base[row] = piecewiseSum(base + row &* inner, count: inner) }
        return
      }
      for row in 0..<keptCount { result.base[row] = contiguousSum(base + row &* inner, count: inner) }
    }
    return Tensor(shape: target, storage: result)
  }
  // Leading axes reduced, trailing ones kept: add whole rows into one row.
  var lead = 0
  while lead < padded.count && padded[lead] == 1 { lead += 1 }
  if lead > 0 && lead < x.rank && Array(x.shape[lead...]) == Array(padded[lead...]) && x.scalarCount >= 16 {
    let inner = padded[lead...].reduce(1, *)
    let rows = inner == 0 ? 0 : x.scalarCount / inner
    let result = TensorStorage.make(repeating: 0, count: inner)
    let out = result.base
    x.withUnsafeScalars { px in
      var row = px.baseAddress.unsafelyUnwrapped
      for _ in 0..<rows {
        for j in 0..<inner { out[j] += row[j] }
        row += inner
      }
    }
    return Tensor(shape: target, storage: result)
  }
  let reduced = reduceKernel(x, to: padded, initial: 0, +)
  return padded == target ? reduced : Tensor(shape: target, storage: reduced.storage, offset: reduced.offset)
}

/// p[0] + ... + p[n − 1] for a large n, in `piecewise` pieces (`contiguousSum` each).
@usableFromInline
func piecewiseSum(_ p: UnsafePointer<Double>, count n: Int) -> Double {
  let source = ElementwisePointers(a: p, b: nil, y: UnsafeMutablePointer(mutating: p))  // y unused
  return piecewise(count: n) { piece in contiguousSum(source.a + piece.lowerBound, count: piece.count) }
}

/// Σ a[i] b[i] for a large n, in `piecewise` pieces (`contiguousDot` each).
@usableFromInline
func piecewiseDot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count n: Int) -> Double {
  let source = ElementwisePointers(a: a, b: b, y: UnsafeMutablePointer(mutating: a))  // y unused
  return piecewise(count: n) { piece in
    contiguousDot(source.a + piece.lowerBound, source.b.unsafelyUnwrapped + piece.lowerBound, count: piece.count)
  }
}

/// The sum of `reduce` over the `ElementwisePieces` of 0..<n (whole vectors), the pieces
/// reduced on the worker threads and their results added in order: the value depends on n
/// alone, not on the threads.
func piecewise(count n: Int, _ reduce: @Sendable (Range<Int>) -> Double) -> Double {
  let pieces = ElementwisePieces(total: n, unit: 8)
  return withUnsafeTemporaryAllocation(of: Double.self, capacity: pieces.count) { results in
    let target = SendablePointer(results.baseAddress!)
    parallelFor(iterations: pieces.count, maxThreads: Swift.min(Parallelism.maximumThreads, pieces.count)) { i in
      target.pointer[i] = reduce(pieces[i])
    }
    var total = 0.0
    for i in 0..<pieces.count { total += results[i] }
    return total
  }
}

/// Σ a[i] b[i] with four independent partial sums (the additions pipeline), combined
/// pairwise at the end.
@inlinable @inline(__always)
func contiguousDot(_ pa: UnsafePointer<Double>, _ pb: UnsafePointer<Double>, count n: Int) -> Double {
  var s0 = 0.0
  var s1 = 0.0
  var s2 = 0.0
  var s3 = 0.0
  var i = 0
  while i + 4 <= n {
    s0 += pa[i] * pb[i]
    s1 += pa[i + 1] * pb[i + 1]
    s2 += pa[i + 2] * pb[i + 2]
    s3 += pa[i + 3] * pb[i + 3]
    i += 4
  }
  while i < n {
    s0 += pa[i] * pb[i]
    i += 1
  }
  return (s0 + s1) + (s2 + s3)
}

/// p[0] + ... + p[n − 1] with eight independent partial sums, so the additions pipeline
/// (and vectorize) instead of waiting on one another; pairwise-combined at the end.
@inlinable @inline(__always)
func contiguousSum(_ p: UnsafePointer<Double>, count n: Int) -> Double {
  var s0 = 0.0
  var s1 = 0.0
  var s2 = 0.0
  var s3 = 0.0
  var s4 = 0.0
  var s5 = 0.0
  var s6 = 0.0
  var s7 = 0.0
  var i = 0
  while i &+ 8 <= n {
    s0 += p[i]
    s1 += p[i &+ 1]
    s2 += p[i &+ 2]
    s3 += p[i &+ 3]
    s4 += p[i &+ 4]
    s5 += p[i &+ 5]
    s6 += p[i &+ 6]
    s7 += p[i &+ 7]
    i &+= 8
  }
  while i < n {
    s0 += p[i]
    i &+= 1
  }
  return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))
}
