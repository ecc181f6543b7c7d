// Sums along axes and broadcasting: each the other's VJP.

/// Sums a tensor down to `target`, a shape it broadcasts from (the inverse of broadcasting).
@usableFromInline
struct SumToShape: UnaryPrimitive {
  @usableFromInline let target: TensorShape
  @inlinable init(target: TensorShape) { self.target = target }
  @inlinable func evaluate(_ x: Tensor) -> Tensor { sumKernel(x, to: target) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  /// Sums each row to the target lined up with x's rank, then drops the padding axes.
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    let count = tangents.shape[0]
    let padded = [Int](repeating: 1, count: x.rank - target.count) + target
    return apply(SumToShape(target: [count] + padded), tangents).reshaped(to: [count] + target)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    cotangent.broadcasted(to: x.shape)
  }
}

/// Repeats a tensor along axes of size 1 (and new leading axes) up to `target`.
@usableFromInline
struct BroadcastToShape: UnaryPrimitive {
  @usableFromInline let target: TensorShape
  @inlinable init(target: TensorShape) { self.target = target }
  @inlinable func evaluate(_ x: Tensor) -> Tensor {
    let count = target.reduce(1, *)
    let strides = broadcastStrides(of: x.shape, to: target)
    if x.scalarCount == 1 {  // a sum's or a mean's VJP: one value everywhere, a fill
      return Tensor(shape: target, storage: TensorStorage.make(repeating: x.base[0], count: count))
    }
    let result = TensorStorage.make(uninitializedCount: count)
    x.withUnsafeScalars { px in
      let base = px.baseAddress.unsafelyUnwrapped
      if target.isEmpty {
        result.base[0] = base[0]
        return
      }
      let inner = target[target.count - 1]
      let step = strides[strides.count - 1]
      forEachRow(of: target, stridesA: strides, stridesB: strides) { start, offset, _ in
        let row = result.base + start
        for j in 0..<inner { row[j] = base[offset + j * step] }
      }
    }
    return Tensor(shape: target, storage: result)
  }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { apply(self, tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    apply(BroadcastToShape(target: [tangents.shape[0]] + target), tangents.batchAligned(toRank: target.count))
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    cotangent.unbroadcasted(to: x.shape)
  }
}

extension Tensor {
  /// Normalizes possibly negative axes (-1 is the last) and checks them, naming `operation`.
  @inlinable
  internal func normalizedAxes(_ axes: [Int], operation: StaticString) -> [Int] {
    axes.map { axis in
      let normalized = axis < 0 ? axis + rank : axis
      require(normalized >= 0 && normalized < rank, "\(operation): axis \(axis) is out of range for shape \(shape)")
      return normalized
    }
  }

  /// This tensor repeated along its size-1 axes (and new leading axes) to `shape`,
  /// following NumPy broadcasting.
  ///
  /// Derivative: the adjoint is summed back over the repeated axes.
  /// - Precondition: this tensor's shape broadcasts to `shape`.
  @inlinable
  public func broadcasted(to shape: TensorShape) -> Tensor {
    if self.shape == shape { return self }
    require(
      broadcastShape(self.shape, shape, operation: "broadcasted(to:)") == shape,
      "broadcasted(to:): shape \(self.shape) does not broadcast to \(shape)")
    return apply(BroadcastToShape(target: shape), self)
  }
  /// This tensor broadcast to a shape written as an array.
  @inlinable
  public func broadcasted(to shape: [Int]) -> Tensor { broadcasted(to: TensorShape(shape)) }

  /// The sum of all elements, as a rank-0 tensor: `sum_i x[i]`.
  @inlinable
  public func sum() -> Tensor { apply(SumToShape(target: TensorShape()), self) }

  /// The sums along `axes`, which are kept with size 1 (NumPy's `keepdims=True`).
  /// - Precondition: every axis is in `-rank..<rank`.
  @inlinable
  public func sum(alongAxes axes: [Int]) -> Tensor {
    var target = shape
    for axis in normalizedAxes(axes, operation: "sum(alongAxes:)") { target[axis] = 1 }
    return target == shape ? self : apply(SumToShape(target: target), self)
  }

  /// The sums along `axes`, which are kept with size 1.
  @inlinable
  public func sum(alongAxes axes: Int...) -> Tensor { sum(alongAxes: axes) }

  /// The sums along `axes`, which are removed from the shape.
  /// - Precondition: every axis is in `-rank..<rank`.
  @inlinable
  public func sum(squeezingAxes axes: [Int]) -> Tensor {
    let removed = Set(normalizedAxes(axes, operation: "sum(squeezingAxes:)"))
    let kept = sum(alongAxes: Array(removed))
    return kept.reshaped(to: shape.indices.filter { !removed.contains($0) }.map { shape[$0] })
  }

  /// The sums along `axes`, which are removed from the shape.
  @inlinable
  public func sum(squeezingAxes axes: Int...) -> Tensor { sum(squeezingAxes: axes) }

  /// The mean of all elements, as a rank-0 tensor.
  @inlinable
  public func mean() -> Tensor { sum() / Double(Swift.max(scalarCount, 1)) }

  /// The means along `axes`, which are removed from the shape.
  @inlinable
  public func mean(squeezingAxes axes: [Int]) -> Tensor {
    let count = normalizedAxes(axes, operation: "mean(squeezingAxes:)").reduce(1) { $0 * shape[$1] }
    return sum(squeezingAxes: axes) / Double(Swift.max(count, 1))
  }

  /// The means along `axes`, which are removed from the shape.
  @inlinable
  public func mean(squeezingAxes axes: Int...) -> Tensor { mean(squeezingAxes: axes) }

  /// The means along `axes`, which are kept with size 1.
  @inlinable
  public func mean(alongAxes axes: Int...) -> Tensor {
    let count = normalizedAxes(axes, operation: "mean(alongAxes:)").reduce(1) { $0 * shape[$1] }
    return sum(alongAxes: axes) / Double(Swift.max(count, 1))
  }

  /// The maxima along `axes` (kept with size 1), as a constant: no derivative flows
  /// through it. Composites use it to shift values for numerical stability.
  @inlinable
  internal func constantMaximum(alongAxes axes: [Int]) -> Tensor {
    var target = shape
    for axis in axes { target[axis] = 1 }
    return reduceKernel(constant, to: target, initial: -.infinity) { Swift.max($0, $1) }
  }
}
