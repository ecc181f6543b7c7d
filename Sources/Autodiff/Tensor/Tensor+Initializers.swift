// Ways to make a constant tensor.

extension Tensor {
  /// A rank-0 tensor holding `scalar`.
  public init(_ scalar: Double) {
    self.init(shape: TensorShape(), storage: TensorStorage.make(repeating: scalar, count: 1))
  }

  /// A rank-1 tensor holding `scalars`.
  public init(_ scalars: [Double]) {
    self.init(shape: TensorShape(vector: scalars.count), storage: TensorStorage.make(scalars))
  }

  /// A tensor of the given shape holding `scalars` in row-major order.
  ///
  /// - Precondition: every dimension is non-negative and `scalars.count` is the product of `shape`.
  public init(shape: TensorShape, scalars: [Double]) {
    let count = checkedScalarCount(shape, operation: "Tensor(shape:scalars:)")
    require(
      count == scalars.count,
      "Tensor(shape:scalars:): shape \(shape) needs \(count) values, got \(scalars.count)")
    self.init(shape: shape, storage: TensorStorage.make(scalars))
  }

  /// A tensor of the given shape with every value equal to `value`.
  ///
  /// - Precondition: every dimension is non-negative.
  public init(shape: TensorShape, repeating value: Double) {
    let count = checkedScalarCount(shape, operation: "Tensor(shape:repeating:)")
    self.init(shape: shape, storage: TensorStorage.make(repeating: value, count: count))
  }

  /// A tensor of zeros of the given shape.
  public static func zeros(_ shape: TensorShape) -> Tensor { Tensor(shape: shape, repeating: 0) }

  /// A tensor of ones of the given shape.
  public static func ones(_ shape: TensorShape) -> Tensor { Tensor(shape: shape, repeating: 1) }

  /// A tensor of the given shape, written as an array, holding `scalars` in row-major order.
  ///
  /// - Precondition: every dimension is non-negative and `scalars.count` is the product of `shape`.
  @inlinable
  public init(shape: [Int], scalars: [Double]) { self.init(shape: TensorShape(shape), scalars: scalars) }

  /// A tensor of the given shape, written as an array, with every value equal to `value`.
  @inlinable
  public init(shape: [Int], repeating value: Double) { self.init(shape: TensorShape(shape), repeating: value) }

  /// A tensor of zeros of the given shape, written as an array.
  @inlinable public static func zeros(_ shape: [Int]) -> Tensor { zeros(TensorShape(shape)) }

  /// A tensor of ones of the given shape, written as an array.
  @inlinable public static func ones(_ shape: [Int]) -> Tensor { ones(TensorShape(shape)) }

  /// The `n` by `n` identity matrix.
  public static func identity(_ n: Int) -> Tensor {
    let count = checkedScalarCount([n, n], operation: "Tensor.identity")
    var values = [Double](repeating: 0, count: count)
    for i in 0..<n { values[i * n + i] = 1 }
    return Tensor(shape: [n, n], scalars: values)
  }

  /// A tensor of independent standard normal values, the same for the same `seed`.
  ///
  /// Values come from `SeededRandomNumberGenerator(seed:)` through the Box-Muller transform.
  /// - Parameters:
  ///   - shape: the shape of the result.
  ///   - seed: the generator's seed.
  public init(randomNormal shape: TensorShape, seed: UInt64) {
    var generator = SeededRandomNumberGenerator(seed: seed)
    self.init(randomNormal: shape, using: &generator)
  }

  /// A tensor of independent standard normal values drawn from `generator`.
  public init<G: RandomNumberGenerator>(randomNormal shape: TensorShape, using generator: inout G) {
    let count = checkedScalarCount(shape, operation: "Tensor(randomNormal:)")
    var values = [Double]()
    values.reserveCapacity(count)
    while values.count < count {
      let (first, second) = generator.nextStandardNormalPair()
      values.append(first)
      if values.count < count { values.append(second) }
    }
    self.init(shape: shape, storage: TensorStorage.make(values))
  }

  /// A tensor of independent standard normal values, the same for the same `seed`, of a
  /// shape written as an array.
  @inlinable
  public init(randomNormal shape: [Int], seed: UInt64) { self.init(randomNormal: TensorShape(shape), seed: seed) }

  /// A tensor of independent values uniform in `range`, the same for the same `seed`.
  public init(randomUniform shape: TensorShape, in range: ClosedRange<Double> = 0...1, seed: UInt64) {
    var generator = SeededRandomNumberGenerator(seed: seed)
    let count = checkedScalarCount(shape, operation: "Tensor(randomUniform:)")
    let values = (0..<count).map { _ in Double.random(in: range, using: &generator) }
    self.init(shape: shape, scalars: values)
  }
}

// MARK: - Literals

extension Tensor: ExpressibleByFloatLiteral {
  /// A rank-0 tensor from a floating-point literal: `let t: Tensor = 2.5`. Literals of
  /// one value share their storage (`LiteralStorageCache`): a literal in a loop allocates
  /// nothing after its first use.
  public init(floatLiteral value: Double) {
    self.init(shape: TensorShape(), storage: LiteralStorageCache.shared.storage(holding: value))
  }
}

extension Tensor: ExpressibleByIntegerLiteral {
  /// A rank-0 tensor from an integer literal: `let t: Tensor = 3` (storage shared as for a
  /// floating-point literal).
  public init(integerLiteral value: Int) {
    self.init(shape: TensorShape(), storage: LiteralStorageCache.shared.storage(holding: Double(value)))
  }
}

extension Tensor: ExpressibleByArrayLiteral {
  /// A tensor whose slices along a new first axis are the elements:
  /// `[1, 2, 3]` has shape `[3]`, `[[1, 2], [3, 4]]` has shape `[2, 2]`.
  ///
  /// - Precondition: every element has the same shape.
  public init(arrayLiteral elements: Tensor...) {
    self = Tensor(stacking: elements)
  }

  /// Stacks equal-shaped tensors along a new first axis (differentiable).
  ///
  /// - Precondition: `tensors` is non-empty and all have the same shape.
  public init(stacking tensors: [Tensor]) {
    require(!tensors.isEmpty, "Tensor(stacking:): no tensors to stack")
    let shape = tensors[0].shape
    for t in tensors {
      require(t.shape == shape, "Tensor(stacking:): shapes \(shape) and \(t.shape) differ")
    }
    if tensors.allSatisfy(\.isConstant) {
      var values = [Double]()
      values.reserveCapacity(tensors.count * tensors[0].scalarCount)
      for t in tensors { t.withUnsafeScalars { values.append(contentsOf: $0) } }
      self.init(shape: [tensors.count] + shape, storage: TensorStorage.make(values))
    } else {
      self = Tensor(concatenating: tensors.map { $0.reshaped(to: [1] + shape) }, alongAxis: 0)
    }
  }

  /// Concatenates tensors along an existing axis (differentiable).
  ///
  /// Pairs are joined in a balanced tree, so the values are copied O(log n) times.
  /// - Precondition: `tensors` is non-empty and shapes agree off `axis`.
  public init(concatenating tensors: [Tensor], alongAxis axis: Int) {
    require(!tensors.isEmpty, "Tensor(concatenating:): no tensors to concatenate")
    var level = tensors
    while level.count > 1 {
      var next = [Tensor]()
      next.reserveCapacity((level.count + 1) / 2)
      var i = 0
      while i + 1 < level.count {
        next.append(level[i].concatenated(with: level[i + 1], alongAxis: axis))
        i += 2
      }
      if i < level.count { next.append(level[i]) }
      level = next
    }
    self = level[0]
  }
}
