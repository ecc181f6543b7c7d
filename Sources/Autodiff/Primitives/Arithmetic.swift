// + - * / and negation, with NumPy broadcasting: kernel, JVP and VJP of each together.

// MARK: - Broadcasting helpers shared by the rules

extension Tensor {
  /// This tensor summed down to `shape` (the inverse of broadcasting), or itself if the
  /// shapes already agree. The VJP of every broadcasting operation ends here.
  @inlinable
  internal func unbroadcasted(to shape: TensorShape) -> Tensor {
    self.shape == shape ? self : apply(SumToShape(target: shape), self)
  }

  /// This tensor broadcast to `shape`, or itself if the shapes already agree.
  @inlinable
  internal func broadcastedIfNeeded(to shape: TensorShape) -> Tensor {
    self.shape == shape ? self : broadcasted(to: shape)
  }
}

// MARK: - Primitives

/// A binary primitive that works elementwise with NumPy broadcasting. Its JVP rule, given
/// the shape to broadcast the result to, serves a single tangent (the value's shape) and a
/// batch (the tangents lined up by `batchAligned(toRank:)`, the shape [B] + the value's):
/// the rule broadcasts the batch's rows against a and b like any other operand.
@usableFromInline
protocol ElementwiseBinary: BinaryPrimitive {
  /// J_a(a, b) da + J_b(a, b) db broadcast to `shape`; a nil tangent is zero.
  func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape) -> Tensor
}

extension ElementwiseBinary {
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    jvp(a: a, b: b, value: value, tangentA: tangentA, tangentB: tangentB, shape: value.shape)
  }
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    return jvp(
      a: a, b: b, value: value, tangentA: tangentsA?.batchAligned(toRank: value.rank),
      tangentB: tangentsB?.batchAligned(toRank: value.rank), shape: [count] + value.shape)
  }
}

@usableFromInline
struct Add: ElementwiseBinary {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "+", vector: .add, +)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (da + db).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return da.broadcastedIfNeeded(to: shape)
    case (nil, let db?): return db.broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? cotangent.unbroadcasted(to: a.shape) : nil, wrtB ? cotangent.unbroadcasted(to: b.shape) : nil)
  }
}

@usableFromInline
struct Subtract: ElementwiseBinary {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "-", vector: .subtract, -)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (da - db).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return da.broadcastedIfNeeded(to: shape)
    case (nil, let db?): return (-db).broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? cotangent.unbroadcasted(to: a.shape) : nil, wrtB ? (-cotangent).unbroadcasted(to: b.shape) : nil)
  }
}

@usableFromInline
struct Multiply: ElementwiseBinary {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "*", vector: .multiply, *)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    switch (tangentA, tangentB) {
    case (let da?, let db?):
      if let both = productRule(da, b, a, db, scale: 1, shape: shape) { return both }  // constants: one pass
      return (da * b + a * db).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return (da * b).broadcastedIfNeeded(to: shape)
    case (nil, let db?): return (a * db).broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (
      wrtA ? (cotangent * b).unbroadcasted(to: a.shape) : nil,
      wrtB ? (cotangent * a).unbroadcasted(to: b.shape) : nil
    )
  }
}

/// z = s · a ⊙ b for a constant s, in one pass where s * (a * b) makes two: the derivative
/// rule of x² (2 x dx, and its adjoint 2 x c) is one of these, at every order.
@usableFromInline
struct ScaledMultiply: ElementwiseBinary {
  @inlinable static var vjpReadsValue: Bool { false }
  @usableFromInline let scale: Double
  @inlinable init(scale: Double) { self.scale = scale }
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    let s = scale
    return zipKernel(a, b, operation: "*", vector: .scaledMultiply, scalar: s) { (s * $0) * $1 }
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    switch (tangentA, tangentB) {
    case (let da?, let db?):
      if let both = productRule(da, b, a, db, scale: scale, shape: shape) { return both }  // constants: one pass
      return (apply(self, da, b) + apply(self, a, db)).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return apply(self, da, b).broadcastedIfNeeded(to: shape)
    case (nil, let db?): return apply(self, a, db).broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (
      wrtA ? apply(self, cotangent, b).unbroadcasted(to: a.shape) : nil,
      wrtB ? apply(self, cotangent, a).unbroadcasted(to: b.shape) : nil
    )
  }
}

@usableFromInline
struct Divide: ElementwiseBinary {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "/", vector: .divide, /)
  }
  // d(a / b) = da / b - (a / b) db / b
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return ((da - value * db) / b).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return (da / b).broadcastedIfNeeded(to: shape)
    case (nil, let db?): return (-(value * db) / b).broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    let scaled = cotangent / b
    return (
      wrtA ? scaled.unbroadcasted(to: a.shape) : nil,
      wrtB ? (-(scaled * value)).unbroadcasted(to: b.shape) : nil
    )
  }
}

/// x ∘ s for a constant scalar s (x + s, x − s, s − x, x s, x / s): one pass over x with s in
/// a register, no broadcasting and no reduction of the scalar's adjoint. The operators take
/// this path whenever one operand is a rank-0 constant (a literal such as `0.5 * x` or
/// `t * 1.0001 + 0.001`, or a `Double`); the values are those of the broadcasting
/// primitives, bit for bit.
///
/// Derivatives: d(x ± s) = dx, d(s − x) = −dx, d(x s) = s dx, d(x / s) = dx / s (each again a
/// `ScalarArithmetic`, so the rule costs one pass at every order).
@usableFromInline
struct ScalarArithmetic: UnaryPrimitive {
  @usableFromInline enum Operation: Sendable {
    case add, subtract, subtractFrom, multiply, divide
  }
  @usableFromInline let operation: Operation
  @usableFromInline let scalar: Double
  @inlinable init(_ operation: Operation, _ scalar: Double) {
    self.operation = operation
    self.scalar = scalar
  }
  @inlinable func evaluate(_ x: Tensor) -> Tensor {
    let s = scalar
    switch operation {
    case .add: return mapKernel(x, vector: .addScalar, scalar: s) { $0 + s }
    case .subtract: return mapKernel(x, vector: .subtractScalar, scalar: s) { $0 - s }
    case .subtractFrom: return mapKernel(x, vector: .scalarMinus, scalar: s) { s - $0 }
    case .multiply: return mapKernel(x, vector: .multiplyScalar, scalar: s) { $0 * s }
    case .divide: return mapKernel(x, vector: .divideScalar, scalar: s) { $0 / s }
    }
  }
  /// The linear part: dx ↦ d(x ∘ s).
  @inlinable func linear(_ d: Tensor) -> Tensor {
    switch operation {
    case .add, .subtract: return d
    case .subtractFrom: return -d
    case .multiply, .divide: return apply(self, d)
    }
  }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { linear(tangent) }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor { linear(tangents) }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { linear(cotangent) }
  @inlinable static var vjpIgnoresOperands: Bool { true }
}

@usableFromInline
struct Negate: UnaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { mapKernel(x, vector: .negate) { -$0 } }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { -tangent }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor { -tangents }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { -cotangent }
  @inlinable static var vjpIgnoresOperands: Bool { true }
}

// MARK: - Operators

extension Tensor {
  /// Elementwise sum with NumPy broadcasting: `(a + b)[i] = a[i] + b[i]`.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func + (a: Tensor, b: Tensor) -> Tensor {
    if let s = b.constantScalar { return apply(ScalarArithmetic(.add, s), a) }
    if let s = a.constantScalar { return apply(ScalarArithmetic(.add, s), b) }
    return apply(Add(), a, b)
  }
  /// Elementwise difference with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func - (a: Tensor, b: Tensor) -> Tensor {
    if let s = b.constantScalar { return apply(ScalarArithmetic(.subtract, s), a) }
    if let s = a.constantScalar { return apply(ScalarArithmetic(.subtractFrom, s), b) }
    return apply(Subtract(), a, b)
  }
  /// Elementwise product with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func * (a: Tensor, b: Tensor) -> Tensor {
    if let s = b.constantScalar { return apply(ScalarArithmetic(.multiply, s), a) }
    if let s = a.constantScalar { return apply(ScalarArithmetic(.multiply, s), b) }
    return apply(Multiply(), a, b)
  }
  /// Elementwise quotient with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func / (a: Tensor, b: Tensor) -> Tensor {
    if let s = b.constantScalar { return apply(ScalarArithmetic(.divide, s), a) }
    return apply(Divide(), a, b)
  }
  /// Elementwise negation.
  @inlinable public static prefix func - (x: Tensor) -> Tensor { apply(Negate(), x) }

  /// Adds a scalar to every element.
  @_disfavoredOverload @inlinable public static func + (a: Tensor, b: Double) -> Tensor {
    apply(ScalarArithmetic(.add, b), a)
  }
  /// Adds a scalar to every element.
  @_disfavoredOverload @inlinable public static func + (a: Double, b: Tensor) -> Tensor {
    apply(ScalarArithmetic(.add, a), b)
  }
  /// Subtracts a scalar from every element.
  @_disfavoredOverload @inlinable public static func - (a: Tensor, b: Double) -> Tensor {
    apply(ScalarArithmetic(.subtract, b), a)
  }
  /// Subtracts every element from a scalar.
  @_disfavoredOverload @inlinable public static func - (a: Double, b: Tensor) -> Tensor {
    apply(ScalarArithmetic(.subtractFrom, a), b)
  }
  /// Multiplies every element by a scalar.
  @_disfavoredOverload @inlinable public static func * (a: Tensor, b: Double) -> Tensor {
    apply(ScalarArithmetic(.multiply, b), a)
  }
  /// Multiplies every element by a scalar.
  @_disfavoredOverload @inlinable public static func * (a: Double, b: Tensor) -> Tensor {
    apply(ScalarArithmetic(.multiply, a), b)
  }
  /// Divides every element by a scalar.
  @_disfavoredOverload @inlinable public static func / (a: Tensor, b: Double) -> Tensor {
    apply(ScalarArithmetic(.divide, b), a)
  }
  /// Divides a scalar by every element.
  @_disfavoredOverload @inlinable public static func / (a: Double, b: Tensor) -> Tensor { Tensor(a) / b }

  /// `a = a + b`.
  @inlinable public static func += (a: inout Tensor, b: Tensor) { a = a + b }
  /// `a = a - b`.
  @inlinable public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
  /// `a = a * b`.
  @inlinable public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
  /// `a = a / b`.
  @inlinable public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
  /// `a = a + b`.
  @_disfavoredOverload @inlinable public static func += (a: inout Tensor, b: Double) { a = a + b }
  /// `a = a - b`.
  @_disfavoredOverload @inlinable public static func -= (a: inout Tensor, b: Double) { a = a - b }
  /// `a = a * b`.
  @_disfavoredOverload @inlinable public static func *= (a: inout Tensor, b: Double) { a = a * b }
  /// `a = a / b`.
  @_disfavoredOverload @inlinable public static func /= (a: inout Tensor, b: Double) { a = a / b }

  /// Adds `other` into this tensor, in place when both are constants of the same shape
  /// and this tensor's storage is uniquely referenced (adjoint accumulation).
  @inlinable
  internal mutating func add(_ other: Tensor) {
    if lift == nil && other.lift == nil && shape == other.shape {
      updateKernel(&self, other, vector: .add, +)
    } else {
      self = self + other
    }
  }
}
