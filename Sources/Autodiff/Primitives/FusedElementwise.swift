// Fused elementwise functions: a chain of elementwise operations written once as an
// expression and run as one primitive, one pass over memory, in its value, its JVP and its
// VJP, at every nesting level.
//
// Why explicit: in a tape engine every intermediate of an elementwise chain is captured by
// a pullback, so fusing the value pass alone saves little; the passes to remove are the
// derivative rules' (a product rule is three passes, a forward-over-reverse HVP about four
// per operation). Given the whole expression, its derivative rules are expressions too
// (`ElementwiseDerivatives`), each again one pass, and the intermediates of a block never
// leave the cache. The expression is built once, when the function is made, as `jax.jit`
// traces once; its derived programs are cached with it.

/// A value inside the body of an `ElementwiseFunction`: the symbolic result of elementwise
/// operations on the function's inputs.
///
/// Supports `+`, `-`, `*`, `/` (with each other and with `Double`s), prefix `-`, and the
/// elementwise functions `exp`, `log`, `log1p`, `tanh`, `sigmoid`, `softplus`, `sqrt`,
/// `abs`, `relu`, `pow(_:_:)` with a constant exponent, and `squared()`.
public struct ElementwiseExpression {
  @usableFromInline let builder: ElementwiseBuilder
  @usableFromInline let index: Int

  @inlinable init(_ builder: ElementwiseBuilder, _ index: Int) {
    self.builder = builder
    self.index = index
  }

  @inlinable
  func combined(_ operation: ElementwiseBinaryOperation, _ other: ElementwiseExpression) -> ElementwiseExpression {
    require(
      builder === other.builder,
      "ElementwiseFunction: an expression of another function's body was used in this one")
    return ElementwiseExpression(builder, builder.binary(operation, index, other.index))
  }

  @inlinable
  func constant(_ value: Double) -> ElementwiseExpression { ElementwiseExpression(builder, builder.constant(value)) }

  @inlinable
  func mapped(_ operation: ElementwiseUnaryOperation) -> ElementwiseExpression {
    ElementwiseExpression(builder, builder.unary(operation, index))
  }

  /// The elementwise sum.
  @inlinable public static func + (a: Self, b: Self) -> Self { a.combined(.add, b) }
  /// The elementwise difference.
  @inlinable public static func - (a: Self, b: Self) -> Self { a.combined(.subtract, b) }
  /// The elementwise product.
  @inlinable public static func * (a: Self, b: Self) -> Self { a.combined(.multiply, b) }
  /// The elementwise quotient.
  @inlinable public static func / (a: Self, b: Self) -> Self { a.combined(.divide, b) }
  /// Adds a scalar.
  @inlinable public static func + (a: Self, b: Double) -> Self { a.combined(.add, a.constant(b)) }
  /// Adds to a scalar.
  @inlinable public static func + (a: Double, b: Self) -> Self { b.constant(a).combined(.add, b) }
  /// Subtracts a scalar.
  @inlinable public static func - (a: Self, b: Double) -> Self { a.combined(.subtract, a.constant(b)) }
  /// Subtracts from a scalar.
  @inlinable public static func - (a: Double, b: Self) -> Self { b.constant(a).combined(.subtract, b) }
  /// Multiplies by a scalar.
  @inlinable public static func * (a: Self, b: Double) -> Self { a.combined(.multiply, a.constant(b)) }
  /// Multiplies a scalar.
  @inlinable public static func * (a: Double, b: Self) -> Self { b.constant(a).combined(.multiply, b) }
  /// Divides by a scalar.
  @inlinable public static func / (a: Self, b: Double) -> Self { a.combined(.divide, a.constant(b)) }
  /// Divides a scalar.
  @inlinable public static func / (a: Double, b: Self) -> Self { b.constant(a).combined(.divide, b) }
  /// The elementwise negation.
  @inlinable public static prefix func - (x: Self) -> Self { x.mapped(.negate) }
  /// The elementwise square x².
  @inlinable public func squared() -> Self { mapped(.square) }
}

/// e^x inside an `ElementwiseFunction`.
@inlinable public func exp(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.exp) }
/// The natural logarithm inside an `ElementwiseFunction`.
@inlinable public func log(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.log) }
/// log(1 + x) inside an `ElementwiseFunction`.
@inlinable public func log1p(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.log1p) }
/// The hyperbolic tangent inside an `ElementwiseFunction`.
@inlinable public func tanh(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.tanh) }
/// The logistic function 1 / (1 + e^−x) inside an `ElementwiseFunction`.
@inlinable public func sigmoid(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.sigmoid) }
/// log(1 + e^x) inside an `ElementwiseFunction`.
@inlinable public func softplus(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.softplus) }
/// The square root inside an `ElementwiseFunction`.
@inlinable public func sqrt(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.squareRoot) }
/// The absolute value inside an `ElementwiseFunction` (derivative sign(x), 0 at 0).
@inlinable public func abs(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.absoluteValue) }
/// max(x, 0) inside an `ElementwiseFunction` (derivative 1[x > 0]).
@inlinable public func relu(_ x: ElementwiseExpression) -> ElementwiseExpression { x.mapped(.relu) }
/// x^p for a constant p inside an `ElementwiseFunction`.
@inlinable public func pow(_ x: ElementwiseExpression, _ exponent: Double) -> ElementwiseExpression {
  ElementwiseExpression(x.builder, x.builder.power(x.index, exponent))
}

/// An elementwise function of several tensors, run as one fused primitive: its value, its
/// JVP and its VJP each in one pass over memory, in cache-sized blocks, at every nesting
/// level (the derivative rules are derived from the expression symbolically, and are fused
/// functions themselves).
///
/// ```swift
/// let terms = ElementwiseFunction { a, b in 100 * (b - a.squared()).squared() + (1 - a).squared() }
/// let values = terms(x.slicing(0..<(d - 1)), x.slicing(1..<d))      // the terms
/// let rosenbrock = terms.sum(x.slicing(0..<(d - 1)), x.slicing(1..<d))  // Σ, never stored
/// ```
///
/// The value and every derivative equal those of the same expression written with
/// `Tensor` operations, to rounding (the same scalar functions and derivative rules, up to
/// the grouping of constant factors, products and quotients; `ElementwiseBuilder` and
/// `ElementwiseDerivatives` say where). The
/// inputs broadcast against each other as NumPy's do. Build the function once and call it
/// many times: the body runs once, in `init`, and the derivative programs are built on
/// first use and kept.
///
/// - Complexity: one pass over the inputs and the output per call, at about the cost of
///   the expression's operations on values in cache; its VJP is one pass for the adjoints
///   of all inputs (then a sum back to the shape of an input that was broadcast).
public struct ElementwiseFunction: Sendable {
  @usableFromInline let program: ElementwiseProgram

  /// The function of `arity` tensors that `body` computes elementwise.
  ///
  /// - Parameters:
  ///   - arity: the number of input tensors (at least 1).
  ///   - body: the expression, given one `ElementwiseExpression` per input.
  public init(arity: Int, _ body: ([ElementwiseExpression]) -> ElementwiseExpression) {
    require(arity >= 1, "ElementwiseFunction: arity \(arity) must be at least 1")
    let builder = ElementwiseBuilder()
    let inputs = (0..<arity).map { ElementwiseExpression(builder, builder.input($0)) }
    let result = body(inputs)
    require(
      result.builder === builder, "ElementwiseFunction: the body returned an expression of another function's body")
    program = builder.finish(outputs: [result.index], inputCount: arity)
  }

  /// The function of one tensor that `body` computes elementwise.
  public init(_ body: (ElementwiseExpression) -> ElementwiseExpression) {
    self.init(arity: 1) { body($0[0]) }
  }

  /// The function of two tensors that `body` computes elementwise.
  public init(_ body: (ElementwiseExpression, ElementwiseExpression) -> ElementwiseExpression) {
    self.init(arity: 2) { body($0[0], $0[1]) }
  }

  /// The function of three tensors that `body` computes elementwise.
  public init(_ body: (ElementwiseExpression, ElementwiseExpression, ElementwiseExpression) -> ElementwiseExpression) {
    self.init(arity: 3) { body($0[0], $0[1], $0[2]) }
  }

  /// The number of input tensors.
  public var arity: Int { program.inputCount }

  /// The function applied to `inputs`, elementwise with NumPy broadcasting.
  ///
  /// - Parameter inputs: `arity` tensors whose shapes broadcast together.
  /// - Returns: a tensor of the broadcast shape.
  /// - Precondition: `inputs.count == arity` and the shapes broadcast (the message names
  ///   them).
  public func callAsFunction(_ inputs: [Tensor]) -> Tensor {
    require(
      inputs.count == arity, "ElementwiseFunction: called with \(inputs.count) tensors, but it takes \(arity)")
    return applyFused(program, inputs)[0]
  }

  /// The function applied to `inputs`, elementwise with NumPy broadcasting.
  public func callAsFunction(_ inputs: Tensor...) -> Tensor { callAsFunction(inputs) }

  /// The sum of the function's values on `inputs`: `f(inputs).sum()` in one pass that
  /// never stores the values.
  ///
  /// ```
  /// Σᵢ f(x₁[i], …, xₙ[i])   (over the inputs' broadcast shape)
  /// ```
  ///
  /// Its derivatives skip the stored values too: the VJP is one pass of the adjoint
  /// program with the cotangent as a scalar (no broadcast of it), the JVP one summing pass
  /// of the tangent program. The loss of a model is often such a sum (`mean` is the sum
  /// divided by the count).
  ///
  /// - Parameter inputs: `arity` tensors whose shapes broadcast together.
  /// - Returns: a rank-0 tensor.
  /// - Precondition: `inputs.count == arity` and the shapes broadcast.
  /// - Complexity: one pass over the inputs.
  public func sum(_ inputs: [Tensor]) -> Tensor {
    require(
      inputs.count == arity, "ElementwiseFunction.sum: called with \(inputs.count) tensors, but it takes \(arity)")
    return applyFused(program, inputs, summing: true)[0]
  }

  /// The sum of the function's values on `inputs` (see `sum(_:)`).
  public func sum(_ inputs: Tensor...) -> Tensor { sum(inputs) }
}

/// Applies a program to `operands`, one tensor per output: the operands the kernel cannot
/// read as they are are broadcast first (differentiably, so that their adjoints are summed
/// back).
@usableFromInline
func applyFused(_ program: ElementwiseProgram, _ operands: [Tensor], summing: Bool = false) -> [Tensor] {
  var shape = operands[0].shape
  for operand in operands.dropFirst() where operand.shape != shape {
    shape = broadcastShape(shape, operand.shape, operation: "ElementwiseFunction")
  }
  let prepared = operands.map { elementwiseReadsDirectly($0.shape, as: shape) ? $0 : $0.broadcasted(to: shape) }
  return apply(FusedElementwise(program: program, shape: shape, summing: summing), prepared)
}

/// One elementwise program as a primitive: its outputs, or with `summing` the sum of each
/// over all values (computed block by block, the values never stored).
@usableFromInline
struct FusedElementwise: NaryPrimitive {
  @usableFromInline let program: ElementwiseProgram
  /// The shape of the values (the operands' broadcast shape).
  @usableFromInline let shape: TensorShape
  /// Whether the outputs are the values' sums.
  @usableFromInline let summing: Bool

  @usableFromInline
  func evaluate(_ operands: [Tensor]) -> [Tensor] {
    evaluateElementwiseProgram(program, operands, shape: shape, summing: summing)
  }

  /// One pass of the tangent program, every output's Σᵢ ∂y_k/∂xᵢ ẋᵢ (summed when the
  /// outputs are sums; the program then computes the values it needs again, the stored
  /// ones being sums). A batch's rows are lined up against the values
  /// (`batchAligned(toRank:)`) and run through the same program; summed batches are
  /// summed over all axes but the batch's.
  @usableFromInline
  func jvp(operands: [Tensor], values: [Tensor], tangents: [Tensor?]) -> [Tensor] {
    var batch: Int?
    for (operand, tangent) in zip(operands, tangents) where tangent != nil && tangent!.rank != operand.rank {
      batch = tangent!.shape[0]
    }
    let tangentProgram = program.tangentProgram(mask: tangents.map { $0 != nil }, readsValues: !summing)
    let given = tangents.compactMap { $0 }.map { batch == nil ? $0 : $0.batchAligned(toRank: shape.count) }
    let inputs = operands + (summing ? [] : values) + given
    guard let batch else { return applyFused(tangentProgram, inputs, summing: summing) }
    return applyFused(tangentProgram, inputs).map { rows in
      let batched = rows.broadcastedIfNeeded(to: [batch] + shape)
      return summing ? batched.reshaped(to: [batch, -1]).sum(squeezingAxes: 1) : batched
    }
  }

  /// The values (or sums) and the tangents in one pass (single tangents only).
  @usableFromInline
  func valueAndJVP(operands: [Tensor], tangents: [Tensor?]) -> (values: [Tensor], tangents: [Tensor])? {
    fusedValueAndJVP(program, operands, tangents, shape: shape, summing: summing)
  }

  /// The adjoint program, Σ_k ȳ_k ∂y_k/∂xᵢ for every marked operand in one pass, each
  /// summed back to its operand's shape (for sums, the cotangents are scalars: nothing is
  /// broadcast).
  @usableFromInline
  func vjp(operands: [Tensor], values: [Tensor], cotangents: [Tensor?], wrt: [Bool]) -> [Tensor?] {
    let adjointProgram = program.adjointProgram(
      wrt: wrt, seeds: cotangents.map { $0 != nil }, readsValues: !summing)
    let adjoints = applyFused(adjointProgram, operands + (summing ? [] : values) + cotangents.compactMap { $0 })
    var result = [Tensor?](repeating: nil, count: operands.count)
    for (j, i) in operands.indices.filter({ wrt[$0] }).enumerated() where !adjointProgram.outputIsZero(j) {
      result[i] = adjoints[j].broadcastedIfNeeded(to: shape).unbroadcasted(to: operands[i].shape)
    }
    return result
  }
}

/// `program`'s values (or sums) and tangents in one pass of its value-and-tangent program,
/// for constant operands and single constant tangents of the operands' shapes; nil for a
/// batch.
func fusedValueAndJVP(
  _ program: ElementwiseProgram, _ operands: [Tensor], _ tangents: [Tensor?], shape: TensorShape, summing: Bool
) -> (values: [Tensor], tangents: [Tensor])? {
  var given: [Tensor] = []
  for (operand, tangent) in zip(operands, tangents) {
    guard let tangent else { continue }
    guard tangent.shape == operand.shape else { return nil }  // a batch
    given.append(tangent)
  }
  let both = program.valueAndTangentProgram(mask: tangents.map { $0 != nil })
  let results = evaluateElementwiseProgram(both, operands + given, shape: shape, summing: summing)
  let m = program.outputs.count
  return (Array(results[..<m]), Array(results[m...]))
}
