// Reductions along any set of axes, without transposing copies.

/// Reduces `x` to `target` (same rank; each axis either kept or reduced to 1) with
/// `combine`, starting every output at `initial`.
///
/// The innermost loop either folds a contiguous row into one value (last axis reduced) or
/// combines a row into a row of the output (last axis kept); both vectorize.
@inlinable @inline(__always)
func reduceKernel(
  _ x: Tensor, to target: [Int], initial: Double, _ combine: (Double, Double) -> Double
) -> Tensor {
  assert(target.count == x.rank)
  let count = target.reduce(1, *)
  let result = TensorStorage(repeating: initial, count: count)
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
@inlinable
func sumKernel(_ x: Tensor, to target: [Int]) -> Tensor {
  let padded = [Int](repeating: 1, count: x.rank - target.count) + target
  let reduced = reduceKernel(x, to: padded, initial: 0, +)
  return padded == target ? reduced : Tensor(shape: target, storage: reduced.storage)
}
