// + - * / and negation, with NumPy broadcasting: kernel, JVP and VJP of each together.

// MARK: - Broadcasting helpers shared by the rules

extension Tensor {
  /// This tensor summed down to `shape` (the inverse of broadcasting), or itself if the
  /// shapes already agree. The VJP of every broadcasting operation ends here.
  @inlinable
  internal func unbroadcasted(to shape: [Int]) -> Tensor {
    self.shape == shape ? self : apply(SumToShape(target: shape), self)
  }

  /// This tensor broadcast to `shape`, or itself if the shapes already agree.
  @inlinable
  internal func broadcastedIfNeeded(to shape: [Int]) -> Tensor {
    self.shape == shape ? self : broadcasted(to: shape)
  }
}

// MARK: - Primitives

@usableFromInline
struct Add: BinaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "+", +)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (da + db).broadcastedIfNeeded(to: value.shape)
    case (let da?, nil): return da.broadcastedIfNeeded(to: value.shape)
    case (nil, let db?): return db.broadcastedIfNeeded(to: value.shape)
    case (nil, nil): return Tensor.zeros(value.shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? cotangent.unbroadcasted(to: a.shape) : nil, wrtB ? cotangent.unbroadcasted(to: b.shape) : nil)
  }
}

@usableFromInline
struct Subtract: BinaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "-", -)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (da - db).broadcastedIfNeeded(to: value.shape)
    case (let da?, nil): return da.broadcastedIfNeeded(to: value.shape)
    case (nil, let db?): return (-db).broadcastedIfNeeded(to: value.shape)
    case (nil, nil): return Tensor.zeros(value.shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? cotangent.unbroadcasted(to: a.shape) : nil, wrtB ? (-cotangent).unbroadcasted(to: b.shape) : nil)
  }
}

@usableFromInline
struct Multiply: BinaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "*", *)
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (da * b + a * db).broadcastedIfNeeded(to: value.shape)
    case (let da?, nil): return (da * b).broadcastedIfNeeded(to: value.shape)
    case (nil, let db?): return (a * db).broadcastedIfNeeded(to: value.shape)
    case (nil, nil): return Tensor.zeros(value.shape)
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
struct ScaledMultiply: BinaryPrimitive {
  @usableFromInline let scale: Double
  @inlinable init(scale: Double) { self.scale = scale }
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    let s = scale
    return zipKernel(a, b, operation: "*") { (s * $0) * $1 }
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return (apply(self, da, b) + apply(self, a, db)).broadcastedIfNeeded(to: value.shape)
    case (let da?, nil): return apply(self, da, b).broadcastedIfNeeded(to: value.shape)
    case (nil, let db?): return apply(self, a, db).broadcastedIfNeeded(to: value.shape)
    case (nil, nil): return Tensor.zeros(value.shape)
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
struct Divide: BinaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "/", /)
  }
  // d(a / b) = da / b - (a / b) db / b
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return ((da - value * db) / b).broadcastedIfNeeded(to: value.shape)
    case (let da?, nil): return (da / b).broadcastedIfNeeded(to: value.shape)
    case (nil, let db?): return (-(value * db) / b).broadcastedIfNeeded(to: value.shape)
    case (nil, nil): return Tensor.zeros(value.shape)
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

@usableFromInline
struct Negate: UnaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { mapKernel(x) { -$0 } }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { -tangent }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { -cotangent }
}

// MARK: - Operators

extension Tensor {
  /// Elementwise sum with NumPy broadcasting: `(a + b)[i] = a[i] + b[i]`.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func + (a: Tensor, b: Tensor) -> Tensor { apply(Add(), a, b) }
  /// Elementwise difference with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func - (a: Tensor, b: Tensor) -> Tensor { apply(Subtract(), a, b) }
  /// Elementwise product with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func * (a: Tensor, b: Tensor) -> Tensor { apply(Multiply(), a, b) }
  /// Elementwise quotient with NumPy broadcasting.
  /// - Precondition: the shapes broadcast.
  @inlinable public static func / (a: Tensor, b: Tensor) -> Tensor { apply(Divide(), a, b) }
  /// Elementwise negation.
  @inlinable public static prefix func - (x: Tensor) -> Tensor { apply(Negate(), x) }

  /// Adds a scalar to every element.
  @_disfavoredOverload @inlinable public static func + (a: Tensor, b: Double) -> Tensor { a + Tensor(b) }
  /// Adds a scalar to every element.
  @_disfavoredOverload @inlinable public static func + (a: Double, b: Tensor) -> Tensor { Tensor(a) + b }
  /// Subtracts a scalar from every element.
  @_disfavoredOverload @inlinable public static func - (a: Tensor, b: Double) -> Tensor { a - Tensor(b) }
  /// Subtracts every element from a scalar.
  @_disfavoredOverload @inlinable public static func - (a: Double, b: Tensor) -> Tensor { Tensor(a) - b }
  /// Multiplies every element by a scalar.
  @_disfavoredOverload @inlinable public static func * (a: Tensor, b: Double) -> Tensor { a * Tensor(b) }
  /// Multiplies every element by a scalar.
  @_disfavoredOverload @inlinable public static func * (a: Double, b: Tensor) -> Tensor { Tensor(a) * b }
  /// Divides every element by a scalar.
  @_disfavoredOverload @inlinable public static func / (a: Tensor, b: Double) -> Tensor { a / Tensor(b) }
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
      updateKernel(&self, other, +)
    } else {
      self = self + other
    }
  }
}
