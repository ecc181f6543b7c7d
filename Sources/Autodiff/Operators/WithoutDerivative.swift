/// The same values as `x`, with no derivative at any level (stop-gradient).
///
/// ```
/// withoutDerivative(at: x) = x,   d/dx withoutDerivative(at: x) = 0
/// ```
/// - Parameter x: any tensor.
/// - Returns: a constant with x's shape and values.
public func withoutDerivative(at x: Tensor) -> Tensor { x.constant }
