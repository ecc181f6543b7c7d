// Elementwise maximum and minimum of two tensors.

/// max(a, b) or min(a, b) elementwise; the derivative follows the selected operand
/// (`a` on ties), through a constant selection mask.
@usableFromInline
struct Select: ElementwiseBinary {
  @usableFromInline let takesMaximum: Bool
  @inlinable init(takesMaximum: Bool) { self.takesMaximum = takesMaximum }

  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    takesMaximum
      ? zipKernel(a, b, operation: "max") { Swift.max($0, $1) }
      : zipKernel(a, b, operation: "min") { Swift.min($0, $1) }
  }

  /// 1 where `a` is selected, 0 where `b` is, as a constant of the result's shape.
  @inlinable func mask(_ a: Tensor, _ b: Tensor) -> Tensor {
    takesMaximum
      ? zipKernel(a.constant, b.constant, operation: "max") { $0 >= $1 ? 1 : 0 }
      : zipKernel(a.constant, b.constant, operation: "min") { $0 <= $1 ? 1 : 0 }
  }

  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    let selectsA = mask(a, b)
    var tangent = Tensor.zeros(shape)
    if let da = tangentA { tangent = tangent + da * selectsA }
    if let db = tangentB { tangent = tangent + db * (1 - selectsA) }
    return tangent
  }

  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    let selectsA = mask(a, b)
    return (
      wrtA ? (cotangent * selectsA).unbroadcasted(to: a.shape) : nil,
      wrtB ? (cotangent * (1 - selectsA)).unbroadcasted(to: b.shape) : nil
    )
  }
}

/// The elementwise maximum of two tensors, with NumPy broadcasting.
///
/// Derivative: da where a >= b, db elsewhere.
/// - Precondition: the shapes broadcast.
@inlinable public func max(_ a: Tensor, _ b: Tensor) -> Tensor { apply(Select(takesMaximum: true), a, b) }

/// The elementwise minimum of two tensors, with NumPy broadcasting.
///
/// Derivative: da where a <= b, db elsewhere.
/// - Precondition: the shapes broadcast.
@inlinable public func min(_ a: Tensor, _ b: Tensor) -> Tensor { apply(Select(takesMaximum: false), a, b) }
