// Composite functions built from primitives, arranged for numerical stability.

extension Tensor {
  /// log(sum(exp(x))) along `axes`, which are removed from the shape, computed as
  /// m + log(sum(exp(x - m))) with m the (constant) maximum, so it never overflows.
  ///
  /// Derivative: softmax(x) along `axes`.
  /// - Precondition: every axis is in `-rank..<rank`.
  @inlinable
  public func logSumExp(squeezingAxes axes: [Int]) -> Tensor {
    let axes = normalizedAxes(axes, operation: "logSumExp(squeezingAxes:)")
    return logSumExp(alongAxes: axes).reshaped(to: shape.indices.filter { !axes.contains($0) }.map { shape[$0] })
  }

  /// log(sum(exp(x))) along `axes`, which are removed from the shape.
  @inlinable
  public func logSumExp(squeezingAxes axes: Int...) -> Tensor { logSumExp(squeezingAxes: axes) }

  /// log(sum(exp(x))) over all elements, as a rank-0 tensor.
  @inlinable
  public func logSumExp() -> Tensor { logSumExp(squeezingAxes: Array(0..<rank)) }

  /// log(sum(exp(x))) along `axes`, which are kept with size 1.
  @inlinable
  public func logSumExp(alongAxes axes: [Int]) -> Tensor {
    let axes = normalizedAxes(axes, operation: "logSumExp(alongAxes:)")
    let shift = constantMaximum(alongAxes: axes)
    let finiteShift = mapKernel(shift) { $0.isFinite ? $0 : 0 }
    return log(exp(self - finiteShift).sum(alongAxes: axes)) + finiteShift
  }

  /// exp(x) / sum(exp(x)) along `axis`, computed without overflow.
  ///
  /// Derivative: d softmax = s * (dx - sum(s * dx)) along the axis.
  /// - Precondition: `axis` is in `-rank..<rank`.
  @inlinable
  public func softmax(alongAxis axis: Int) -> Tensor {
    let axes = normalizedAxes([axis], operation: "softmax(alongAxis:)")
    let shift = mapKernel(constantMaximum(alongAxes: axes)) { $0.isFinite ? $0 : 0 }
    let e = exp(self - shift)
    return e / e.sum(alongAxes: axes)
  }

  /// x - logSumExp(x) along `axis`: log-probabilities, computed without overflow.
  @inlinable
  public func logSoftmax(alongAxis axis: Int) -> Tensor {
    self - logSumExp(alongAxes: [axis])
  }
}
