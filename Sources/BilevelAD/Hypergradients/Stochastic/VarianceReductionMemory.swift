import Autodiff

/// The SAGA memory of one oracle: the last value seen for each block of samples and the
/// weighted average of those values.
///
/// ```
/// direction = (g − m_b) + Σ_k w_k m_k,   then   m_b ← g
/// ```
/// The direction is an unbiased estimate of the full-batch oracle whose variance vanishes
/// as the iterates converge. The memory holds one tensor per block: its size is
/// `blockCount × values per oracle × 8` bytes, reported by `byteCount`.
///
/// References: A. Defazio, F. Bach and S. Lacoste-Julien, "SAGA: a fast incremental
/// gradient method with support for non-strongly convex composite objectives", NeurIPS 2014.
struct VarianceReductionMemory {
  private var table: [Tensor?]
  private var average: Tensor

  /// An empty memory of `blockCount` blocks for values of `shape` (starts at zero, as in
  /// the benchmark).
  init(blockCount: Int, shape: TensorShape) {
    table = Array(repeating: nil, count: blockCount)
    average = Tensor.zeros(shape)
  }

  /// The variance-reduced direction for a new value `value` of block `block`, whose
  /// weight in the full mean is `weight`; stores the value.
  mutating func direction(for value: Tensor, block: Int, weight: Double) -> Tensor {
    let difference = table[block].map { value - $0 } ?? value
    let direction = difference + average
    average = average + weight * difference
    table[block] = value
    return direction
  }

  /// Bytes held by the table when full.
  static func byteCount(blockCount: Int, valuesPerEntry: Int) -> Int { (blockCount + 1) * valuesPerEntry * 8 }
}
