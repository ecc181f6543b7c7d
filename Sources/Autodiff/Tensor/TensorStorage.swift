// The contiguous, copy-on-write buffer of Double values behind every Tensor.
//
// Implementation goals, in priority order: correctness, one allocation per tensor,
// in-place updates when the buffer is uniquely referenced.

/// A heap buffer of `Double`s in row-major order, shared between tensors until written.
///
/// Tensors reference their storage and only ever read it, except through
/// `Tensor.withMutableScalars`, which copies first unless the storage is uniquely
/// referenced (`isKnownUniquelyReferenced`).
@usableFromInline
final class TensorStorage: @unchecked Sendable {
  @usableFromInline let count: Int
  @usableFromInline let base: UnsafeMutablePointer<Double>

  /// Allocates `count` uninitialized values; the caller must initialize all of them.
  @inlinable
  init(uninitializedCount count: Int) {
    self.count = count
    self.base = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(count, 1))
  }

  @inlinable
  convenience init(repeating value: Double, count: Int) {
    self.init(uninitializedCount: count)
    base.initialize(repeating: value, count: count)
  }

  @inlinable
  convenience init(_ values: [Double]) {
    self.init(uninitializedCount: values.count)
    values.withUnsafeBufferPointer { source in
      if let address = source.baseAddress { base.initialize(from: address, count: values.count) }
    }
  }

  /// A copy of this buffer (used by copy-on-write).
  @inlinable
  func makeCopy() -> TensorStorage {
    let copy = TensorStorage(uninitializedCount: count)
    copy.base.initialize(from: base, count: count)
    return copy
  }

  @inlinable
  var buffer: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: base, count: count) }

  @inlinable
  var mutableBuffer: UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  @inlinable
  var array: [Double] { Array(buffer) }

  deinit { base.deallocate() }
}
