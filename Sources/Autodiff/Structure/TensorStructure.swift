// A value made of tensors in a fixed order: what gradients, tangents and optimizers
// take and return when a model has more than one tensor.
//
// Design goals, in priority order:
// 1. A user's own type conforms in one line per tensor property, with no macro, key path
//    table or registration: one method that visits each tensor in place.
// 2. Derivative operators pay O(1) per tensor for a structure, never a flatten-and-copy.
// 3. Two values of one structure combine like vectors (`p - 0.1 * g`, `dot(g, g)`), and
//    combining two different layouts stops with a message that names both.

/// A value made of tensors in a fixed order: a model's parameters, a set of
/// hyperparameters, any nesting of them.
///
/// Every differential operator of this module accepts a `TensorStructure` and returns
/// derivatives in the same structure: `gradient(at: network) { ... }` is a `Network`.
/// `Tensor`, `Array` of conforming elements and `Dictionary` from `String` to conforming
/// values (visited in ascending key order) conform out of the box. A struct conforms by
/// visiting its tensor properties in a fixed order, one line each:
///
/// ```swift
/// struct Network: TensorStructure {
///   var w1, b1, w2, b2: Tensor
///   mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
///     visit(&w1); visit(&b1); visit(&w2); visit(&b2)
///   }
/// }
/// ```
/// A property that is itself a structure is visited by forwarding:
/// `layer.visitTensors(visit)`. Properties that are not visited (sizes, names, constants)
/// are carried along unchanged.
///
/// Values of one structure form a vector space, elementwise per tensor: `a + b`, `a - b`,
/// `a * b`, `-a`, `s * a`, `a / s`, `dot(a, b)` and `a.norm()` are differentiable like
/// the tensor operations they are made of. On `Array`, `+` and `+=` keep Swift's meaning
/// (concatenation); the elementwise sum of two arrays is `a.adding(b)`.
///
/// Derivatives with respect to a structure are reported in the same structure; `jacobian`
/// and `hessian` are matrices over the structure's scalars flattened in order (its tensors
/// in order, each row-major).
///
/// An empty structure (an empty array or dictionary, a struct that visits nothing) is
/// allowed and has defined results: the gradient of f at it is the empty structure and
/// f's value is f(x); its Jacobian has a zero-length axis; `dot` and `norm` of it are 0.
public protocol TensorStructure {
  /// Calls `visit` once on each tensor of this value, in the structure's fixed order, and
  /// keeps what `visit` leaves in place.
  ///
  /// The order must be the same on every call and for every value of the type with the
  /// same layout: derivatives and arithmetic pair tensors by their position in it.
  ///
  /// - Parameter visit: called with each tensor in turn; may replace it.
  mutating func visitTensors(_ visit: (inout Tensor) -> Void)

  /// Whether `other` has this value's layout: the same tensors, in the same order, with
  /// the same shapes (and, for a dictionary, the same keys).
  ///
  /// The default compares the shapes of the tensors in order.
  /// - Parameter other: another value of this type.
  /// - Returns: true when the two can be combined tensor by tensor.
  func hasSameLayout(as other: Self) -> Bool

  /// A short description of the layout for error messages, such as `[w: [3, 2], b: [2]]`.
  ///
  /// The default lists the type's name and the shapes of its tensors in order.
  var layoutDescription: String { get }
}

// MARK: - Reading and rebuilding

extension TensorStructure {
  /// The tensors of this value in the structure's order.
  ///
  /// - Complexity: O(k) for k tensors; no values are copied (tensors share storage).
  @inlinable
  public var tensors: [Tensor] {
    var copy = self
    var result = [Tensor]()
    copy.visitTensors { result.append($0) }
    return result
  }

  /// The shapes of this value's tensors, in order.
  public var shapes: [TensorShape] { tensors.map(\.shape) }

  /// The number of scalars over all tensors.
  public var scalarCount: Int {
    var copy = self
    var count = 0
    copy.visitTensors { count += $0.scalarCount }
    return count
  }

  /// The same structure holding `tensors` in place of its own, in order.
  ///
  /// - Parameter tensors: one tensor per tensor of this value, in the structure's order.
  /// - Returns: this value with its tensors replaced.
  /// - Precondition: `tensors.count` is the number of tensors of this value.
  /// - Complexity: O(k) for k tensors.
  @inlinable
  public func replacingTensors(with tensors: [Tensor]) -> Self {
    var copy = self
    var index = 0
    copy.visitTensors { tensor in
      if index < tensors.count { tensor = tensors[index] }
      index += 1
    }
    require(
      index == tensors.count,
      "replacingTensors(with:): \(tensors.count) tensors given for a structure of \(index) tensors (\(layoutDescription))"
    )
    return copy
  }

  /// The same structure with `transform` applied to each tensor.
  ///
  /// - Parameter transform: maps a tensor to its replacement.
  /// - Returns: the transformed value.
  @inlinable
  public func mapTensors(_ transform: (Tensor) -> Tensor) -> Self {
    var copy = self
    copy.visitTensors { $0 = transform($0) }
    return copy
  }

  /// The same structure combining this value's tensors with `other`'s, position by position.
  ///
  /// - Parameters:
  ///   - other: a value of the same layout.
  ///   - operation: the name used in the message when the layouts differ.
  ///   - combine: maps a pair of tensors to the result's tensor.
  /// - Returns: the combined value, of this value's structure.
  /// - Precondition: `other` has this value's layout.
  @inlinable
  public func zipTensors(
    with other: Self, operation: String = "zipTensors(with:)", _ combine: (Tensor, Tensor) -> Tensor
  ) -> Self {
    requireSameLayout(other, operation: operation)
    let others = other.tensors
    var copy = self
    var index = 0
    copy.visitTensors { tensor in
      tensor = combine(tensor, others[index])
      index += 1
    }
    return copy
  }

  /// Stops with a message naming both layouts unless `other` has this value's layout.
  @inlinable
  package func requireSameLayout(_ other: Self, operation: String) {
    require(
      hasSameLayout(as: other),
      "\(operation): structures of different layouts: \(layoutDescription) and \(other.layoutDescription)")
  }

  public func hasSameLayout(as other: Self) -> Bool { shapes == other.shapes }

  public var layoutDescription: String {
    "\(Self.self)(" + shapes.map { "\($0)" }.joined(separator: ", ") + ")"
  }
}

// MARK: - Flat views

extension TensorStructure {
  /// All scalars of this value in one rank-1 tensor: its tensors in order, each row-major.
  ///
  /// Differentiable (a concatenation); a `Tensor` is only reshaped.
  /// - Returns: a tensor of shape `[scalarCount]`.
  /// - Complexity: O(n) copies for a structure of n scalars; none for a `Tensor`.
  public func flattened() -> Tensor {
    if let tensor = self as? Tensor { return tensor.reshaped(to: [tensor.scalarCount]) }
    let parts = tensors.map { $0.reshaped(to: [$0.scalarCount]) }
    if parts.isEmpty { return Tensor.zeros([0]) }
    return Tensor(concatenating: parts, alongAxis: 0)
  }

  /// The value of this structure whose scalars, flattened in order, are `flat`.
  ///
  /// The inverse of `flattened()`, and differentiable (one slice per tensor).
  /// - Parameter flat: a rank-1 tensor of `scalarCount` values.
  /// - Returns: a value of this layout.
  /// - Precondition: `flat` has shape `[scalarCount]`.
  public func unflattened(_ flat: Tensor) -> Self {
    let count = scalarCount
    require(
      flat.shape == [count],
      "unflattened(_:): a flat tensor of shape \(flat.shape) for a structure of \(count) scalars (\(layoutDescription))"
    )
    if let tensor = self as? Tensor { return flat.reshaped(to: tensor.shape) as! Self }
    var offset = 0
    return mapTensors { tensor in
      let n = tensor.scalarCount
      defer { offset += n }
      return flat.slicing(offset..<(offset + n)).reshaped(to: tensor.shape)
    }
  }
}

// MARK: - Vector-space arithmetic
//
// The operators are disfavored overloads: on `Tensor` its own broadcasting operators win,
// so `x * 2` in a closure whose result type is generic stays unambiguous.

extension TensorStructure {
  /// The elementwise sum, tensor by tensor (on `Array`, `+` is concatenation: use this).
  ///
  /// - Parameter other: a value of the same layout.
  /// - Returns: self + other.
  /// - Precondition: the layouts are equal.
  @inlinable
  public func adding(_ other: Self) -> Self { zipTensors(with: other, operation: "+") { $0 + $1 } }

  /// The elementwise sum of two values of one layout.
  /// - Precondition: the layouts are equal.
  @_disfavoredOverload
  @inlinable
  public static func + (a: Self, b: Self) -> Self { a.adding(b) }

  /// The elementwise difference of two values of one layout.
  /// - Precondition: the layouts are equal.
  @_disfavoredOverload
  @inlinable
  public static func - (a: Self, b: Self) -> Self { a.zipTensors(with: b, operation: "-") { $0 - $1 } }

  /// The elementwise product of two values of one layout.
  /// - Precondition: the layouts are equal.
  @_disfavoredOverload
  @inlinable
  public static func * (a: Self, b: Self) -> Self { a.zipTensors(with: b, operation: "*") { $0 * $1 } }

  /// Every tensor negated.
  @_disfavoredOverload
  @inlinable
  public static prefix func - (a: Self) -> Self { a.mapTensors { -$0 } }

  /// Every tensor scaled by `s`.
  @_disfavoredOverload
  @inlinable
  public static func * (s: Double, a: Self) -> Self { a.mapTensors { s * $0 } }

  /// Every tensor scaled by `s`.
  @_disfavoredOverload
  @inlinable
  public static func * (a: Self, s: Double) -> Self { a.mapTensors { $0 * s } }

  /// Every tensor divided by `s`.
  @_disfavoredOverload
  @inlinable
  public static func / (a: Self, s: Double) -> Self { a.mapTensors { $0 / s } }

  /// Subtracts `b` in place, tensor by tensor.
  /// - Precondition: the layouts are equal.
  @_disfavoredOverload
  @inlinable
  public static func -= (a: inout Self, b: Self) { a = a - b }

  /// Scales in place.
  @_disfavoredOverload
  @inlinable
  public static func *= (a: inout Self, s: Double) { a = a * s }

  /// The Euclidean norm over all scalars, sqrt(Σ_tensors Σ_i t[i]²), as a rank-0 tensor.
  ///
  /// Its derivative is undefined at 0, as for `Tensor.norm()`.
  @_disfavoredOverload
  public func norm() -> Tensor { sqrt(dot(self, self)) }

  /// A value of this layout filled with zeros.
  public var zeros: Self { mapTensors { Tensor.zeros($0.shape) } }
}

/// The inner product Σ_tensors Σ_i a[i] b[i] of two values of one structure, as a rank-0
/// tensor.
///
/// ```
/// dot(a, b) = Σ_k ⟨a_k, b_k⟩   over the tensors a_k, b_k in order
/// ```
/// Differentiable like the sum of per-tensor `dot`s it is.
/// - Parameters:
///   - a: a value.
///   - b: a value of the same layout.
/// - Returns: a rank-0 tensor.
/// - Precondition: the layouts are equal.
@_disfavoredOverload
public func dot<S: TensorStructure>(_ a: S, _ b: S) -> Tensor {
  a.requireSameLayout(b, operation: "dot")
  let pairs = zip(a.tensors, b.tensors)
  var total: Tensor? = nil
  for (x, y) in pairs {
    let term = dot(x, y)
    total = total.map { $0 + term } ?? term
  }
  return total ?? Tensor(0)
}
