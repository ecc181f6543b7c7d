/// An n-dimensional array of `Double` values that can be differentiated, to any order.
///
/// A `Tensor` is a value: a shape and row-major contiguous values in a copy-on-write
/// buffer, which it may share with other tensors (a reshape, or a slice of a contiguous
/// range, is a view: it copies nothing). The same type flows through user code whether or not it is
/// being differentiated. Internally a tensor is one of
///
/// - a **constant**: just its values;
/// - a **forward-mode dual** `(primal, tangent, tag)`, created by `jvp(at:direction:of:)`;
/// - a **reverse-mode tracer** `(primal, node on a tape, tag)`, created by
///   `gradient(at:of:)` and the other reverse-mode operators.
///
/// The primal (and a dual's tangent) are themselves tensors that can carry lower tags:
/// that recursion is what makes nested derivatives work (see `Docs/Architecture.md`).
///
/// Tensors whose values are constants are safe to share between threads. A dual or a
/// tracer belongs to the differential-operator call that created it; it must not escape
/// that call.
public struct Tensor: @unchecked Sendable {
  /// The size of each dimension; `[]` for a scalar.
  public let shape: TensorShape

  /// The buffer holding the values of the innermost primal, row-major, from `offset` on.
  /// Shared with `lift.primal`, and with the tensors this one is a view of.
  @usableFromInline internal var storage: TensorStorage

  /// The index in `storage` of the first value (nonzero for a slice viewed in place).
  @usableFromInline internal var offset: Int

  /// The differentiation level this tensor lives at; `nil` for a constant.
  @usableFromInline internal var lift: Lift?

  @inlinable
  internal init(shape: TensorShape, storage: TensorStorage, offset: Int = 0, lift: Lift? = nil) {
    assert(
      offset >= 0 && offset + shape.reduce(1, *) <= storage.count,
      "shape \(shape) from offset \(offset) does not fit \(storage.count) values")
    self.shape = shape
    self.storage = storage
    self.offset = offset
    self.lift = lift
  }

  /// The address of the first value (valid while `storage` is alive).
  @inlinable
  internal var base: UnsafeMutablePointer<Double> { storage.base + offset }
}

/// The part of a dual or tracer above its primal: the level's tag and its perturbation.
///
/// Exactly one of `tangent` (a forward-mode dual) and `tape` (a reverse-mode tracer) is set.
@usableFromInline
internal final class Lift {
  @usableFromInline let tag: Int
  @usableFromInline let primal: Tensor
  @usableFromInline let tangent: Tensor?
  @usableFromInline let tape: Tape?
  @usableFromInline let node: Int

  @inlinable
  init(tag: Int, primal: Tensor, tangent: Tensor) {
    self.tag = tag
    self.primal = primal
    self.tangent = tangent
    self.tape = nil
    self.node = -1
  }

  @inlinable
  init(tag: Int, primal: Tensor, tape: Tape, node: Int) {
    self.tag = tag
    self.primal = primal
    self.tangent = nil
    self.tape = tape
    self.node = node
  }
}

// MARK: - Levels

extension Tensor {
  /// The tag of the innermost differential operator this tensor is perturbed by, or 0.
  @inlinable
  internal var tag: Int { lift?.tag ?? 0 }

  /// A dual at `tag` with the given primal and tangent.
  @inlinable
  internal init(dual primal: Tensor, tangent: Tensor, tag: Int) {
    assert(primal.tag < tag && tangent.tag < tag, "a dual's parts must live at lower levels")
    assert(
      primal.shape == tangent.shape || tangent.shape.dropFirst().elementsEqual(primal.shape),
      "tangent shape \(tangent.shape) is neither the primal's \(primal.shape) nor a batch of it")
    self.init(
      shape: primal.shape, storage: primal.storage, offset: primal.offset,
      lift: Lift(tag: tag, primal: primal, tangent: tangent))
  }

  /// A tracer at `tag` for the node `node` of `tape`.
  @inlinable
  internal init(tracer primal: Tensor, tape: Tape, node: Int, tag: Int) {
    assert(primal.tag < tag, "a tracer's primal must live at a lower level")
    self.init(
      shape: primal.shape, storage: primal.storage, offset: primal.offset,
      lift: Lift(tag: tag, primal: primal, tape: tape, node: node))
  }

  /// This tensor seen from level `tag`: its primal if it lives at `tag`, else itself
  /// (a tensor of a lower level is a constant at `tag`).
  @inlinable
  internal func primal(at tag: Int) -> Tensor {
    if let lift, lift.tag == tag { return lift.primal }
    return self
  }

  /// The values alone, with every level of perturbation removed.
  @inlinable
  internal var constant: Tensor {
    lift == nil ? self : Tensor(shape: shape, storage: storage, offset: offset)
  }

  /// Whether this tensor is a constant (not being differentiated by any enclosing operator).
  public var isConstant: Bool { lift == nil }

  /// A rank-0 constant passed to a rule in place of operands it declares it does not read
  /// (`UnaryPrimitive.vjpIgnoresOperands`), so that the tape need not keep them.
  @usableFromInline static let unused = Tensor(0)
}

// MARK: - Shape and values

extension Tensor {
  /// The number of dimensions.
  @inlinable public var rank: Int { shape.count }

  /// The number of values: the product of `shape`.
  @inlinable public var scalarCount: Int { shape.product }

  /// The values in row-major order. For a dual or tracer, its primal's values.
  public var scalars: [Double] { withUnsafeScalars { Array($0) } }

  /// The single value of a one-element tensor.
  ///
  /// - Precondition: `scalarCount == 1`.
  public var scalar: Double {
    require(scalarCount == 1, "scalar: tensor of shape \(shape) has \(scalarCount) values, not 1")
    return base[0]
  }

  /// The value of a rank-0 constant (a literal), or nil: the operators' scalar fast path.
  @inlinable
  internal var constantScalar: Double? {
    shape.isEmpty && lift == nil ? base[0] : nil
  }

  /// Calls `body` with the values, row-major, of this tensor's innermost primal.
  @inlinable
  public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
    try withExtendedLifetime(storage) { try body(UnsafeBufferPointer(start: base, count: scalarCount)) }
  }

  /// Calls `body` with mutable access to the values of this constant tensor, copying them
  /// first into a buffer of its own unless it holds its storage alone (a view that does,
  /// of part of a buffer, writes its own values in place: no other tensor sees them).
  ///
  /// - Precondition: the tensor is a constant (writing through a tracer would corrupt
  ///   the derivative); use `withoutDerivative(at:)` first.
  @inlinable
  public mutating func withUnsafeMutableScalars<R>(
    _ body: (UnsafeMutableBufferPointer<Double>) throws -> R
  ) rethrows -> R {
    require(lift == nil, "withUnsafeMutableScalars: tensor is being differentiated")
    let count = scalarCount
    if !isKnownUniquelyReferenced(&storage) {
      let copy = TensorStorage.make(uninitializedCount: count)
      copy.base.initialize(from: base, count: count)
      storage = copy
      offset = 0
    }
    return try body(UnsafeMutableBufferPointer(start: base, count: count))
  }
}
