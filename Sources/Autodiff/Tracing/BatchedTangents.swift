// Batches of tangents: the shapes and helpers the batched JVP rules share.
//
// A batched dual's tangent has shape [B] + the primal's shape (a leading batch axis). A
// rule written with NumPy broadcasting against the primal (tangent * f'(x)) is already
// batched, since the primal's shape is a suffix of the tangent's; an operand of lower rank
// than the result is lined up first (`batchAligned(toRank:)`), so that its batch axis
// meets the result's and not one of the result's own axes.

extension Tensor {
  /// This batch ([B] + s) as [B] + [1, …, 1] + s of rank 1 + `rank`: its rows lined up for
  /// NumPy broadcasting against tensors of rank `rank` ≥ s.count.
  @inlinable
  internal func batchAligned(toRank rank: Int) -> Tensor {
    let missing = rank - (self.rank - 1)
    if missing <= 0 { return self }
    return reshaped(to: [shape[0]] + [Int](repeating: 1, count: missing) + shape.dropFirst())
  }
}

/// Row i of a batch: tangents[i], of shape tangents.shape.dropFirst().
@inlinable
internal func batchRow(_ tangents: Tensor, _ i: Int) -> Tensor {
  apply(Slice(axis: 0, range: i..<(i + 1)), tangents).reshaped(to: Array(tangents.shape.dropFirst()))
}

/// The zero tangent of a batch of `count` rows for a value of `shape`.
@inlinable
internal func zeroBatch(_ count: Int, _ shape: TensorShape) -> Tensor {
  Tensor.zeros([count] + shape)
}
