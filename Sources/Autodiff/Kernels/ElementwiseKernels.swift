// Elementwise kernels on raw storage: maps and broadcasting binary maps.
//
// Goals, in priority order: correct broadcasting, loops the compiler vectorizes (unit or
// zero strides in the innermost loop), one allocation per result.

/// y[i] = f(x[i]) on the values of `x`; `vector` (with `scalar`), when given, is f as a
/// `ck_elementwise_*` operation, run on the CPU's vector width (`vectorElementwise`).
@inlinable @inline(__always)
func mapKernel(
  _ x: Tensor, vector: VectorElementwise? = nil, scalar: Double = 0, _ f: (Double) -> Double
) -> Tensor {
  let count = x.scalarCount
  let result = TensorStorage.make(uninitializedCount: count)
  // x is borrowed for the whole call, so its storage outlives the loop (no
  // `withUnsafeScalars`, whose extended lifetime costs a retain and a release).
  let (source, out) = (x.base, result.base)
  if let vector, vectorElementwise(vector, source, nil, scalar: scalar, out, count: count) {
    return Tensor(shape: x.shape, storage: result)
  }
  for i in 0..<count { out[i] = f(source[i]) }
  return Tensor(shape: x.shape, storage: result)
}

/// z = f(a, b) elementwise with NumPy broadcasting; `vector` (with `scalar`), when given,
/// is f as a `ck_elementwise_*` operation, run on the CPU's vector width for equal shapes
/// and, for the four arithmetic operations, a one-value operand (`vectorElementwise`).
///
/// - Precondition: the shapes broadcast; the message names `operation`.
@inlinable @inline(__always)
func zipKernel(
  _ a: Tensor, _ b: Tensor, operation: StaticString, vector: VectorElementwise? = nil, scalar: Double = 0,
  _ f: (Double, Double) -> Double
) -> Tensor {
  let sameShape = a.shape == b.shape
  let shape = sameShape ? a.shape : broadcastShape(a.shape, b.shape, operation: operation)
  let count = shape.reduce(1, *)
  let result = TensorStorage.make(uninitializedCount: count)
  let out = result.base
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      if sameShape {
        if let vector, let x = pa.baseAddress, let y = pb.baseAddress,
          vectorElementwise(vector, x, y, scalar: scalar, out, count: count)
        {
          return
        }
        for i in 0..<count { out[i] = f(pa[i], pb[i]) }
      } else if b.scalarCount == 1 && b.rank <= a.rank {
        let s = pb[0]
        if let vector = vector?.withScalarSecond, let x = pa.baseAddress,
          vectorElementwise(vector, x, nil, scalar: s, out, count: count)
        {
          return
        }
        for i in 0..<count { out[i] = f(pa[i], s) }
      } else if a.scalarCount == 1 && a.rank <= b.rank {
        let s = pa[0]
        if let vector = vector?.withScalarFirst, let y = pb.baseAddress,
          vectorElementwise(vector, y, nil, scalar: s, out, count: count)
        {
          return
        }
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

/// a[i] = f(a[i], b[i]) in place, for constant tensors of equal shape; `vector` is f as a
/// `ck_elementwise_*` operation (see `zipKernel`).
@inlinable @inline(__always)
func updateKernel(_ a: inout Tensor, _ b: Tensor, vector: VectorElementwise? = nil, _ f: (Double, Double) -> Double) {
  b.withUnsafeScalars { pb in
    a.withUnsafeMutableScalars { pa in
      if let vector, let x = pa.baseAddress, let y = pb.baseAddress,
        vectorElementwise(vector, x, y, x, count: pa.count)
      {
        return
      }
      for i in 0..<pa.count { pa[i] = f(pa[i], pb[i]) }
    }
  }
}
