import Autodiff
import Foundation

// Deterministic inputs and plain-Swift reference linear algebra.
//
// Everything here is built from scalars with `Tensor(shape:scalars:)` and
// plain loops, so expected values never depend on the tensor operations
// under test (apart from `Tensor(randomNormal:seed:)` for the raw noise).

/// Number of scalars of a shape (1 for the rank-0 shape `[]`).
public func elementCount(_ shape: TensorShape) -> Int {
  shape.reduce(1, *)
}

/// Applies `transform` to every scalar, keeping the shape.
public func mapScalars(_ t: Tensor, _ transform: (Double) -> Double) -> Tensor {
  Tensor(shape: t.shape, scalars: t.scalars.map(transform))
}

/// Combines two equal-shaped tensors scalar by scalar.
public func zipScalars(
  _ a: Tensor, _ b: Tensor, _ combine: (Double, Double) -> Double
) -> Tensor {
  precondition(a.shape == b.shape, "zipScalars: shapes \(a.shape) and \(b.shape) differ")
  return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(combine))
}

/// Seeded standard-normal tensor multiplied by `scale`.
public func randomTensor(_ shape: TensorShape, seed: UInt64, scale: Double = 1) -> Tensor {
  mapScalars(Tensor(randomNormal: shape, seed: seed)) { $0 * scale }
}

/// Seeded tensor with every scalar at least `minimum` (> 0): `minimum + |n|`
/// for standard-normal `n`. Suitable for log, sqrt, pow and division.
public func positiveTensor(_ shape: TensorShape, seed: UInt64, minimum: Double = 0.5) -> Tensor {
  mapScalars(Tensor(randomNormal: shape, seed: seed)) { minimum + Swift.abs($0) }
}

/// Seeded tensor whose scalars are at least `margin` away from zero
/// (`n + margin * sign(n)`). Suitable for abs, relu and other kinks at 0.
public func awayFromZeroTensor(_ shape: TensorShape, seed: UInt64, margin: Double = 0.25) -> Tensor {
  mapScalars(Tensor(randomNormal: shape, seed: seed)) { $0 >= 0 ? $0 + margin : $0 - margin }
}

/// Tensor of the given shape whose scalars are `start, start + 1, ...`
/// scaled by `scale` (row-major).
public func rampTensor(_ shape: TensorShape, start: Double = 1, scale: Double = 1) -> Tensor {
  let n = elementCount(shape)
  return Tensor(shape: shape, scalars: (0..<n).map { (start + Double($0)) * scale })
}

/// `rows x cols` matrix with entries `entry(i, j)`.
public func makeMatrix(rows: Int, cols: Int, _ entry: (Int, Int) -> Double) -> Tensor {
  var scalars: [Double] = []
  scalars.reserveCapacity(rows * cols)
  for i in 0..<rows {
    for j in 0..<cols {
      scalars.append(entry(i, j))
    }
  }
  return Tensor(shape: [rows, cols], scalars: scalars)
}

/// The `n x n` identity matrix.
public func identityMatrix(_ n: Int) -> Tensor {
  makeMatrix(rows: n, cols: n) { $0 == $1 ? 1 : 0 }
}

/// Square matrix with `diagonal` on its diagonal.
public func diagonalMatrix(_ diagonal: [Double]) -> Tensor {
  makeMatrix(rows: diagonal.count, cols: diagonal.count) { $0 == $1 ? diagonal[$0] : 0 }
}

/// Plain matrix product of rank-2 tensors (reference implementation).
public func referenceMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
  precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0])
  let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
  let x = a.scalars
  let y = b.scalars
  return makeMatrix(rows: m, cols: n) { i, j in
    var total = 0.0
    for p in 0..<k { total += x[i * k + p] * y[p * n + j] }
    return total
  }
}

/// Plain matrix-vector product (reference implementation), rank-1 result.
public func referenceMatVec(_ a: Tensor, _ v: Tensor) -> Tensor {
  precondition(a.rank == 2 && a.shape[1] == v.scalarCount)
  let (m, k) = (a.shape[0], a.shape[1])
  let x = a.scalars
  let y = v.scalars
  var out = [Double](repeating: 0, count: m)
  for i in 0..<m {
    for p in 0..<k { out[i] += x[i * k + p] * y[p] }
  }
  return Tensor(shape: [m], scalars: out)
}

/// Plain transpose of a rank-2 tensor (reference implementation).
public func referenceTranspose(_ a: Tensor) -> Tensor {
  precondition(a.rank == 2)
  let (m, n) = (a.shape[0], a.shape[1])
  let x = a.scalars
  return makeMatrix(rows: n, cols: m) { i, j in x[j * n + i] }
}

/// Plain sum of all scalars.
public func referenceSum(_ t: Tensor) -> Double {
  t.scalars.reduce(Double(0), +)
}

/// Plain dot product of the scalars of two equal-sized tensors.
public func referenceDot(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.scalarCount == b.scalarCount)
  return zip(a.scalars, b.scalars).reduce(Double(0)) { $0 + $1.0 * $1.1 }
}

/// Logistic function on a Double.
public func referenceSigmoid(_ x: Double) -> Double {
  1 / (1 + Foundation.exp(-x))
}

/// Softmax of a plain vector (max-shifted).
public func referenceSoftmax(_ x: [Double]) -> [Double] {
  let m = x.max() ?? 0
  let e = x.map { Foundation.exp($0 - m) }
  let total = e.reduce(Double(0), +)
  return e.map { $0 / total }
}

/// log(sum(exp(x))) of a plain vector (max-shifted).
public func referenceLogSumExp(_ x: [Double]) -> Double {
  let m = x.max() ?? 0
  return m + Foundation.log(x.reduce(Double(0)) { $0 + Foundation.exp($1 - m) })
}
