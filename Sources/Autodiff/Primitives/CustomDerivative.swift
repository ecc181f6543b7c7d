// User functions with their own derivative rules, nested like any primitive.

/// A user function with user JVP and VJP rules, applied through the same dispatch as the
/// built-in primitives.
@usableFromInline
struct CustomUnary: UnaryPrimitive {
  @usableFromInline let function: (Tensor) -> Tensor
  @usableFromInline let jvpRule: (Tensor, Tensor, Tensor) -> Tensor
  @usableFromInline let vjpRule: (Tensor, Tensor, Tensor) -> Tensor

  @inlinable
  init(
    function: @escaping (Tensor) -> Tensor,
    jvp: @escaping (Tensor, Tensor, Tensor) -> Tensor,
    vjp: @escaping (Tensor, Tensor, Tensor) -> Tensor
  ) {
    self.function = function
    self.jvpRule = jvp
    self.vjpRule = vjp
  }

  @inlinable func evaluate(_ x: Tensor) -> Tensor { function(x).constant }

  @inlinable func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor {
    let result = jvpRule(x, value, tangent)
    require(
      result.shape == value.shape,
      "differentiableFunction: the JVP rule returned shape \(result.shape), expected the value's shape \(value.shape)")
    return result
  }

  @inlinable func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor {
    let result = vjpRule(x, value, cotangent)
    require(
      result.shape == x.shape,
      "differentiableFunction: the VJP rule returned shape \(result.shape), expected the input's shape \(x.shape)")
    return result
  }
}

/// Gives `function` its own derivative rules, which every differential operator then uses
/// in place of differentiating the function's body, at any nesting depth.
///
/// The rules receive the input x, the value y = f(x) and a tangent (JVP: return J(x) t)
/// or a cotangent (VJP: return c^T J(x)). Write them in `Tensor` operations: an enclosing
/// operator differentiates the rules themselves, so second and higher derivatives of the
/// new function come out right as long as the rules are exact.
///
/// ```swift
/// let cube = differentiableFunction(
///   { x in x * x * x },
///   jvp: { x, _, t in 3 * x.squared() * t },
///   vjp: { x, _, c in 3 * x.squared() * c })
/// ```
///
/// - Parameters:
///   - function: the function, evaluated on constants (its body is never traced).
///   - jvp: (x, y, tangent) -> J(x) tangent, of y's shape.
///   - vjp: (x, y, cotangent) -> cotangent^T J(x), of x's shape.
/// - Returns: the function with the given derivatives.
public func differentiableFunction(
  _ function: @escaping (Tensor) -> Tensor,
  jvp: @escaping (_ x: Tensor, _ value: Tensor, _ tangent: Tensor) -> Tensor,
  vjp: @escaping (_ x: Tensor, _ value: Tensor, _ cotangent: Tensor) -> Tensor
) -> (Tensor) -> Tensor {
  let primitive = CustomUnary(function: function, jvp: jvp, vjp: vjp)
  return { x in apply(primitive, x) }
}
