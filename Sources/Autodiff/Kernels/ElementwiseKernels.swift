// Elementwise kernels on raw storage: maps and broadcasting binary maps.
//
// Goals, in priority order: correct broadcasting, loops the compiler vectorizes (unit or
// zero strides in the innermost loop), one allocation per result.

/// y[i] = f(x[i]) on the values of `x`.
@inlinable @inline(__always)
func mapKernel(_ x: Tensor, _ f: (Double) -> Double) -> Tensor {
  let count = x.scalarCount
  let result = TensorStorage.make(uninitializedCount: count)
  // x is borrowed for the whole call, so its storage outlives the loop (no
  // `withUnsafeScalars`, whose extended lifetime costs a retain and a release).
  let (source, out) = (x.base, result.base)
  for i in 0..<count { out[i] = f(source[i]) }
  return Tensor(shape: x.shape, storage: result)
}

/// z = f(a, b) elementwise with NumPy broadcasting.
///
/// - Precondition: the shapes broadcast; the message names `operation`.
@inlinable @inline(__always)
func zipKernel(
  _ a: Tensor, _ b: Tensor, operation: StaticString, _ f: (Double, Double) -> Double
) -> Tensor {
  let sameShape = a.shape == b.shape
  let shape = sameShape ? a.shape : broadcastShape(a.shape, b.shape, operation: operation)
  let count = shape.reduce(1, *)
  let result = TensorStorage.make(uninitializedCount: count)
  let out = result.base
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      if sameShape {
        for i in 0..<count { out[i] = f(pa[i], pb[i]) }
      } else if b.scalarCount == 1 && b.rank <= a.rank {
        let s = pb[0]
        for i in 0..<count { out[i] = f(pa[i], s) }
      } else if a.scalarCount == 1 && a.rank <= b.rank {
        let s = pa[0]
        for i in 0..<count { out[i] = f(s, pb[i]) }
      } else {
        let stridesA = broadcastStrides(of: a.shape, to: shape)
        let stridesB = broadcastStrides(of: b.shape, to: shape)
        let inner = shape.last ?? 1
        let stepA = stridesA.last ?? 0
        let stepB = stridesB.last ?? 0
        let baseA = pa.baseAddress.unsafelyUnwrapped
        let baseB = pb.baseAddress.unsafelyUnwrapped
        forEachRow(of: shape, stridesA: stridesA, stridesB: stridesB) { start, offsetA, offsetB in
          let rowA = baseA + offsetA
          let rowB = baseB + offsetB
          let row = out + start
          switch (stepA, stepB) {
          case (1, 1): for j in 0..<inner { row[j] = f(rowA[j], rowB[j]) }
          case (0, 1):
            let s = rowA[0]
            for j in 0..<inner { row[j] = f(s, rowB[j]) }
          case (1, 0):
            let s = rowB[0]
            for j in 0..<inner { row[j] = f(rowA[j], s) }
          default:
            for j in 0..<inner { row[j] = f(rowA[j * stepA], rowB[j * stepB]) }
          }
        }
      }
    }
  }
  return Tensor(shape: shape, storage: result)
}

/// a[i] = f(a[i], b[i]) in place, for constant tensors of equal shape.
@inlinable @inline(__always)
func updateKernel(_ a: inout Tensor, _ b: Tensor, _ f: (Double, Double) -> Double) {
  b.withUnsafeScalars { pb in
    a.withUnsafeMutableScalars { pa in
      for i in 0..<pa.count { pa[i] = f(pa[i], pb[i]) }
    }
  }
}
