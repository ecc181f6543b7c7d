// Shapes, strides and NumPy broadcasting.

/// Row-major strides of `shape`: the distance, in values, between neighbours along each axis.
@inlinable
func contiguousStrides(_ shape: TensorShape) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var running = 1
  for axis in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[axis] = running
    running *= shape[axis]
  }
  return strides
}

/// The shape two operands broadcast to, following NumPy: shapes are aligned on their last
/// axes, and along each axis the sizes must be equal or one of them 1.
///
/// - Precondition: the shapes are broadcast-compatible; the message names `operation`.
@inlinable
func broadcastShape(_ a: TensorShape, _ b: TensorShape, operation: StaticString) -> TensorShape {
  if a == b { return a }
  let rank = Swift.max(a.count, b.count)
  // Built whole, not axis by axis: a shape of rank 4 or more made on the way would be
  // interned for the life of the process (`TensorShape`).
  var result = [Int]()
  result.reserveCapacity(rank)
  for k in 0..<rank {
    let da = k < rank - a.count ? 1 : a[k - (rank - a.count)]
    let db = k < rank - b.count ? 1 : b[k - (rank - b.count)]
    require(
      da == db || da == 1 || db == 1,
      "\(operation): shapes \(a) and \(b) are not broadcast-compatible")
    result.append(da == 1 ? db : da)
  }
  return TensorShape(result)
}

/// Strides that read an operand of `shape` as if broadcast to `target`: 0 along the
/// axes where it is stretched.
@inlinable
func broadcastStrides(of shape: TensorShape, to target: TensorShape) -> [Int] {
  let own = contiguousStrides(shape)
  let offset = target.count - shape.count
  var strides = [Int](repeating: 0, count: target.count)
  for k in 0..<shape.count where shape[k] != 1 || target[k + offset] == 1 {
    strides[k + offset] = shape[k] == 1 ? 0 : own[k]
  }
  return strides
}

/// Calls `body(rowStart, offsetA, offsetB)` for every row (all axes but the last) of
/// `shape`, where the offsets step by `stridesA` and `stridesB`.
@inlinable @inline(__always)
func forEachRow(
  of shape: TensorShape, stridesA: [Int], stridesB: [Int], _ body: (Int, Int, Int) -> Void
) {
  let rank = shape.count
  if rank <= 1 {
    body(0, 0, 0)
    return
  }
  let inner = shape[rank - 1]
  let rows = shape.dropLast().reduce(1, *)
  if rows == 0 { return }
  var index = [Int](repeating: 0, count: rank - 1)
  var offsetA = 0
  var offsetB = 0
  for row in 0..<rows {
    body(row * inner, offsetA, offsetB)
    var axis = rank - 2
    while axis >= 0 {
      index[axis] += 1
      offsetA += stridesA[axis]
      offsetB += stridesB[axis]
      if index[axis] < shape[axis] { break }
      offsetA -= stridesA[axis] * shape[axis]
      offsetB -= stridesB[axis] * shape[axis]
      index[axis] = 0
      axis -= 1
    }
  }
}

extension Tensor {
  /// The most values one tensor may hold: 2³⁴ (128 GiB of `Double`s). A larger shape is
  /// refused with a message when the tensor is created, rather than failing inside the
  /// allocator.
  public static let maximumScalarCount = 1 << 34
}

/// The number of values of `shape`, checked: no negative dimension, no overflow of the
/// product, at most `Tensor.maximumScalarCount`.
///
/// - Precondition: the shape is valid; the message names `operation` and the shape.
@usableFromInline
func checkedScalarCount(_ shape: TensorShape, operation: String) -> Int {
  require(shape.allSatisfy { $0 >= 0 }, "\(operation): negative dimension in shape \(shape)")
  var count = 1
  for dimension in shape {
    let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
    require(!overflow, "\(operation): shape \(shape) has more values than an Int can count")
    count = product
  }
  require(
    count <= Tensor.maximumScalarCount,
    "\(operation): shape \(shape) has \(count) values, more than the maximum \(Tensor.maximumScalarCount) (128 GiB)")
  return count
}
