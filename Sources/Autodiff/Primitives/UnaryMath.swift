import Foundation

// Elementwise math. An elementwise primitive needs only its scalar kernel and its
// derivative dy/dx written in `Tensor` operations (exp, log, log1p, sigmoid and softplus
// evaluate through `vectorMap`, whose reference path is the scalar kernel); `ElementwiseUnary` builds the JVP
// (tangent * dy/dx) and the VJP (cotangent * dy/dx) from it, as JAX's `defjvp` does. x² and
// tanh, on the hot paths of the benchmarks, write their rules as one fused primitive each.

/// An elementwise function y = f(x) given by its scalar kernel and its derivative.
@usableFromInline
protocol ElementwiseUnary: UnaryPrimitive {
  /// f on one value.
  func value(_ x: Double) -> Double
  /// f'(x) elementwise, written in `Tensor` operations of x and y = f(x).
  func derivative(x: Tensor, value: Tensor) -> Tensor
}

extension ElementwiseUnary {
  @inlinable func evaluate(_ x: Tensor) -> Tensor { mapKernel(x) { value($0) } }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor {
    tangent * derivative(x: x, value: value)
  }
  /// The rules broadcast the tangent against x, so a batch goes through them unchanged.
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    jvp(x: x, value: value, tangent: tangents)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    cotangent * derivative(x: x, value: value)
  }
}

@usableFromInline struct Exp: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.exp, x) }
  @inlinable func value(_ x: Double) -> Double { Foundation.exp(x) }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { value }
}

@usableFromInline struct Log: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.log, x) }
  @inlinable func value(_ x: Double) -> Double { Foundation.log(x) }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { 1 / x }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { tangent / x }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { cotangent / x }
}

@usableFromInline struct Log1p: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.log1p, x) }
  @inlinable func value(_ x: Double) -> Double { Foundation.log1p(x) }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { 1 / (x + 1) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { tangent / (x + 1) }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { cotangent / (x + 1) }
}

@usableFromInline struct SquareRoot: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func value(_ x: Double) -> Double { x.squareRoot() }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { 0.5 / value }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor { tangent / (2 * value) }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor { cotangent / (2 * value) }
}

/// x², whose rules 2 x dx and 2 x c are one `ScaledMultiply` pass each (an `ElementwiseUnary`
/// would form 2 x and then the product).
@usableFromInline struct Square: UnaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { mapKernel(x, vector: .square) { $0 * $0 } }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor {
    apply(ScaledMultiply(scale: 2), tangent, x)
  }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    jvp(x: x, value: value, tangent: tangents)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(ScaledMultiply(scale: 2), cotangent, x)
  }
}

@usableFromInline struct Power: ElementwiseUnary {
  @usableFromInline let exponent: Double
  @inlinable init(exponent: Double) { self.exponent = exponent }
  @inlinable func value(_ x: Double) -> Double { Foundation.pow(x, exponent) }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor {
    if exponent == 0 { return Tensor.zeros(x.shape) }
    return exponent == 1 ? Tensor.ones(x.shape) : exponent * pow(x, exponent - 1)
  }
}

@usableFromInline struct AbsoluteValue: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func value(_ x: Double) -> Double { Swift.abs(x) }
  /// sign(x), a constant: the derivative of a step is zero (0 at the kink).
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor {
    mapKernel(x.constant) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
  }
}

/// tanh by `vectorMap(.tanh, _:)` (4 or 8 values per instruction on the AVX2 and AVX-512
/// paths, within 3 ulp of glibc; glibc's tanh on the reference path); its
/// rules dx (1 − t²) and c (1 − t²) are one `TimesOneMinusSquare` pass each, not three.
@usableFromInline struct HyperbolicTangent: UnaryPrimitive {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.tanh, x) }
  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor {
    apply(TimesOneMinusSquare(), tangent, value)
  }
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    jvp(x: x, value: value, tangent: tangents)
  }
  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    apply(TimesOneMinusSquare(), cotangent, value)
  }
}

/// z = a ⊙ (1 − b²), the derivative rule of tanh (b = tanh x) in one pass.
///
/// Derivatives: dz = da ⊙ (1 − b²) − 2 a ⊙ b ⊙ db.
@usableFromInline struct TimesOneMinusSquare: ElementwiseBinary {
  @inlinable init() {}
  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    zipKernel(a, b, operation: "tanh derivative") { $0 * (1 - $1 * $1) }
  }
  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?, shape: TensorShape)
    -> Tensor
  {
    let fromA = tangentA.map { apply(self, $0, b) }
    let fromB = tangentB.map { apply(ScaledMultiply(scale: -2), a * b, $0) }
    switch (fromA, fromB) {
    case (let da?, let db?): return (da + db).broadcastedIfNeeded(to: shape)
    case (let da?, nil): return da.broadcastedIfNeeded(to: shape)
    case (nil, let db?): return db.broadcastedIfNeeded(to: shape)
    case (nil, nil): return Tensor.zeros(shape)
    }
  }
  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (
      wrtA ? apply(self, cotangent, b).unbroadcasted(to: a.shape) : nil,
      wrtB ? apply(ScaledMultiply(scale: -2), cotangent * a, b).unbroadcasted(to: b.shape) : nil
    )
  }
}

@usableFromInline struct Sigmoid: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.sigmoid, x) }
  /// 1 / (1 + e^-x), without overflow for large |x|.
  @inlinable func value(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
  }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { value * (1 - value) }
}

@usableFromInline struct Softplus: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func evaluate(_ x: Tensor) -> Tensor { vectorMap(.softplus, x) }
  /// log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact and overflow-free.
  @inlinable func value(_ x: Double) -> Double {
    Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
  }
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor { sigmoid(x) }
}

@usableFromInline struct RectifiedLinear: ElementwiseUnary {
  @inlinable init() {}
  @inlinable func value(_ x: Double) -> Double { Swift.max(x, 0) }
  /// The step 1[x > 0], a constant.
  @inlinable func derivative(x: Tensor, value: Tensor) -> Tensor {
    mapKernel(x.constant) { $0 > 0 ? 1 : 0 }
  }
}

// MARK: - Public functions

/// The elementwise exponential, e^x.
///
/// Derivative: d exp(x) = exp(x) dx.
@inlinable public func exp(_ x: Tensor) -> Tensor { apply(Exp(), x) }

/// The elementwise natural logarithm.
///
/// Derivative: d log(x) = dx / x.
@inlinable public func log(_ x: Tensor) -> Tensor { apply(Log(), x) }

/// The elementwise log(1 + x), accurate for small x.
///
/// Derivative: d log1p(x) = dx / (1 + x).
@inlinable public func log1p(_ x: Tensor) -> Tensor { apply(Log1p(), x) }

/// The elementwise square root.
///
/// Derivative: d sqrt(x) = dx / (2 sqrt(x)).
@inlinable public func sqrt(_ x: Tensor) -> Tensor { apply(SquareRoot(), x) }

/// The elementwise power x^p for a constant exponent p.
///
/// Derivative: d x^p = p x^(p-1) dx.
@inlinable public func pow(_ x: Tensor, _ exponent: Double) -> Tensor {
  exponent == 2 ? x.squared() : apply(Power(exponent: exponent), x)
}

/// The elementwise absolute value.
///
/// Derivative: sign(x) dx (0 at x = 0).
@inlinable public func abs(_ x: Tensor) -> Tensor { apply(AbsoluteValue(), x) }

/// The elementwise hyperbolic tangent.
///
/// Derivative: d tanh(x) = (1 - tanh(x)^2) dx.
@inlinable public func tanh(_ x: Tensor) -> Tensor { apply(HyperbolicTangent(), x) }

/// The elementwise logistic function 1 / (1 + e^-x).
///
/// Derivative: d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx.
@inlinable public func sigmoid(_ x: Tensor) -> Tensor { apply(Sigmoid(), x) }

/// The elementwise softplus log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|).
///
/// Derivative: d softplus(x) = sigmoid(x) dx.
@inlinable public func softplus(_ x: Tensor) -> Tensor { apply(Softplus(), x) }

/// The elementwise rectified linear unit max(x, 0).
///
/// Derivative: 1[x > 0] dx (0 at x = 0).
@inlinable public func relu(_ x: Tensor) -> Tensor { apply(RectifiedLinear(), x) }

extension Tensor {
  /// The elementwise square x^2.
  ///
  /// Derivative: d x^2 = 2 x dx.
  @inlinable public func squared() -> Tensor { apply(Square(), self) }
}
