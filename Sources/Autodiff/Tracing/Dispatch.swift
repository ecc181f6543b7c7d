// How one primitive application is lifted through the levels of nested differentiation.
//
// A primitive is defined once: an eval kernel on constants, a JVP rule and a VJP rule,
// both written in `Tensor` operations. `apply` peels the highest level off the operands,
// applies the primitive to their primals (recursing through lower levels down to the
// kernel), and then either pushes tangents forward with the JVP rule (a dual level) or
// records a tape node whose pullback is the VJP rule (a tracer level). Because the rules
// are `Tensor` operations on values of lower levels, they are themselves differentiated
// by any enclosing operator: nothing about higher order is special-cased.
//
// A dual level may carry a batch of tangents (`jvp(at:directions:of:)`): a tangent of
// shape [B] + the primal's shape, row i the derivative along direction i. `apply` then
// calls the primitive's batched JVP rule, which pushes all B rows through one pass
// (matrix-matrix products instead of B matrix-vector ones); a primitive without one gets
// the row-by-row default, correct but no faster than B separate passes.

/// A differentiable function of one tensor.
@usableFromInline
protocol UnaryPrimitive {
  /// The value on a constant input (the kernel).
  func evaluate(_ x: Tensor) -> Tensor
  /// The directional derivative: J(x) tangent, given x and y = f(x).
  func jvp(x: Tensor, value: Tensor, tangent: Tensor) -> Tensor
  /// The directional derivatives along a batch: `tangents` has shape [B] + x.shape, the
  /// result [B] + y.shape, row i being J(x) tangents[i].
  func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor
  /// The vector-Jacobian product: cotangent^T J(x), given x and y = f(x).
  func vjp(x: Tensor, value: Tensor, cotangent: Tensor) -> Tensor
  /// Whether `vjp` reads neither x nor y (a map that is linear with a fixed coefficient):
  /// the tape then keeps neither alive, and records the node without them.
  static var vjpIgnoresOperands: Bool { get }
  /// Where the value sits in x when it is a window of x (a slice): the tape then adds a
  /// constant adjoint into that window of x's adjoint instead of calling `vjp`.
  func adjointWindow(x: Tensor) -> AdjointWindow?
}

extension UnaryPrimitive {
  @inlinable static var vjpIgnoresOperands: Bool { false }
  @inlinable func adjointWindow(x: Tensor) -> AdjointWindow? { nil }
  /// Row by row: B applications of `jvp`, stacked.
  @inlinable func batchedJVP(x: Tensor, value: Tensor, tangents: Tensor) -> Tensor {
    Tensor(stacking: (0..<tangents.shape[0]).map { i in jvp(x: x, value: value, tangent: batchRow(tangents, i)) })
  }
}

/// A differentiable function of two tensors.
@usableFromInline
protocol BinaryPrimitive {
  /// The value on constant inputs (the kernel).
  func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor
  /// J_a(a, b) da + J_b(a, b) db; a nil tangent is zero.
  func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor
  /// The same along a batch: the tangents have shapes [B] + a.shape and [B] + b.shape, the
  /// result [B] + value.shape; a nil batch is zero.
  func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor
  /// The adjoints of a and b; only those asked for (`wrtA`, `wrtB`) need be computed.
  func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent: Tensor, wrtA: Bool, wrtB: Bool) -> (Tensor?, Tensor?)
  /// The value and `jvp` together, for constant operands and single constant tangents,
  /// when the primitive does both in one pass (a matrix read once for the value and the
  /// tangent); nil otherwise.
  func valueAndJVP(a: Tensor, b: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> (value: Tensor, tangent: Tensor)?
  /// Whether `vjp` reads the value: when not, the tape does not keep it alive for the
  /// backward pass (the node holds the operands only).
  static var vjpReadsValue: Bool { get }
  /// Whether an application to the very operands of a recent one on the same tape reuses
  /// its traced result instead of recording the product again (`Tape.reused`): true for
  /// the costly products, where an unrolled loop repeats B x for the same x at every step.
  static var reusesResults: Bool { get }
  /// Tells applications of this primitive apart for `reusesResults` (its parameters, such
  /// as transposes, as an integer).
  var reuseKey: Int { get }
}

extension BinaryPrimitive {
  @inlinable static var vjpReadsValue: Bool { true }
  @inlinable static var reusesResults: Bool { false }
  @inlinable var reuseKey: Int { 0 }
  @inlinable func valueAndJVP(a: Tensor, b: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> (
    value: Tensor, tangent: Tensor
  )? { nil }
}

extension BinaryPrimitive {
  /// Row by row: B applications of `jvp`, stacked.
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    return Tensor(
      stacking: (0..<count).map { i in
        jvp(
          a: a, b: b, value: value, tangentA: tangentsA.map { batchRow($0, i) },
          tangentB: tangentsB.map { batchRow($0, i) })
      })
  }
}

/// Applies a unary primitive at every level `x` lives at.
@inlinable
func apply<P: UnaryPrimitive>(_ primitive: P, _ x: Tensor) -> Tensor {
  guard let lift = x.lift else { return primitive.evaluate(x) }
  return apply(primitive, lifted: lift)
}

/// `apply` on a tensor of a level, given its `Lift` (borrowed: its primal is read in place).
@inlinable
func apply<P: UnaryPrimitive>(_ primitive: P, lifted lift: Lift) -> Tensor {
  let value = apply(primitive, lift.primal)
  let primal = lift.primal
  if let tangent = lift.tangent {
    let outputTangent =
      tangent.rank == primal.rank
      ? primitive.jvp(x: primal, value: value, tangent: tangent)
      : primitive.batchedJVP(x: primal, value: value, tangents: tangent)
    return Tensor(dual: value, tangent: outputTangent, tag: lift.tag)
  }
  let tape = lift.tape.unsafelyUnwrapped
  let node: Int
  if P.vjpIgnoresOperands {
    node = tape.append(first: lift.node, second: -1) { cotangent in
      (primitive.vjp(x: Tensor.unused, value: Tensor.unused, cotangent: cotangent), nil)
    }
  } else if let window = primitive.adjointWindow(x: primal) {
    node = tape.append(first: lift.node, window: window) { cotangent in
      (primitive.vjp(x: primal, value: value, cotangent: cotangent), nil)
    }
  } else {
    node = tape.append(first: lift.node, second: -1) { cotangent in
      (primitive.vjp(x: primal, value: value, cotangent: cotangent), nil)
    }
  }
  return Tensor(tracer: value, tape: tape, node: node, tag: lift.tag)
}

/// Applies a binary primitive at every level its operands live at.
@inlinable
func apply<P: BinaryPrimitive>(_ primitive: P, _ a: Tensor, _ b: Tensor) -> Tensor {
  let tagA = a.tag
  let tagB = b.tag
  if tagA == 0 && tagB == 0 { return primitive.evaluate(a, b) }
  // The operands' lifts at the highest level, passed on borrowed (read in place).
  if tagA == tagB { return apply(primitive, a, b, liftA: a.lift, liftB: b.lift, tag: tagA) }
  if tagA > tagB { return apply(primitive, a, b, liftA: a.lift, liftB: nil, tag: tagA) }
  return apply(primitive, a, b, liftA: nil, liftB: b.lift, tag: tagB)
}

/// `apply` at level `tag`, given the lifts of the operands that live at it (nil: a
/// constant at this level).
@inlinable
func apply<P: BinaryPrimitive>(
  _ primitive: P, _ a: Tensor, _ b: Tensor, liftA: Lift?, liftB: Lift?, tag: Int
) -> Tensor {
  let lift = (liftA ?? liftB).unsafelyUnwrapped
  let primalA = liftA?.primal ?? a
  let primalB = liftB?.primal ?? b
  if lift.tape == nil, primalA.isConstant, primalB.isConstant, liftA?.tangent?.isConstant ?? true,
    liftB?.tangent?.isConstant ?? true,
    let both = primitive.valueAndJVP(a: primalA, b: primalB, tangentA: liftA?.tangent, tangentB: liftB?.tangent)
  {
    return Tensor(dual: both.value, tangent: both.tangent, tag: tag)
  }
  if P.reusesResults, let tape = lift.tape, let reused = tape.reused(P.self, key: primitive.reuseKey, a, b) {
    return reused
  }
  let value = apply(primitive, primalA, primalB)
  if lift.tape == nil {
    let tangent = lift.tangent.unsafelyUnwrapped
    let outputTangent =
      tangent.rank == lift.primal.rank
      ? primitive.jvp(a: primalA, b: primalB, value: value, tangentA: liftA?.tangent, tangentB: liftB?.tangent)
      : primitive.batchedJVP(
        a: primalA, b: primalB, value: value, tangentsA: liftA?.tangent, tangentsB: liftB?.tangent)
    return Tensor(dual: value, tangent: outputTangent, tag: tag)
  }
  let tape = lift.tape.unsafelyUnwrapped
  let wrtA = liftA != nil
  let wrtB = liftB != nil
  let node: Int
  if P.vjpReadsValue {
    node = tape.append(first: liftA?.node ?? -1, second: liftB?.node ?? -1) { cotangent in
      primitive.vjp(a: primalA, b: primalB, value: value, cotangent: cotangent, wrtA: wrtA, wrtB: wrtB)
    }
  } else {
    node = tape.append(first: liftA?.node ?? -1, second: liftB?.node ?? -1) { cotangent in
      primitive.vjp(a: primalA, b: primalB, value: Tensor.unused, cotangent: cotangent, wrtA: wrtA, wrtB: wrtB)
    }
  }
  let result = Tensor(tracer: value, tape: tape, node: node, tag: tag)
  if P.reusesResults { tape.remember(P.self, key: primitive.reuseKey, a, b, result: result) }
  return result
}

/// A differentiable function of any number of tensors to any number of tensors (a fused
/// elementwise program).
@usableFromInline
protocol NaryPrimitive {
  /// The values on constant operands (the kernel).
  func evaluate(_ operands: [Tensor]) -> [Tensor]
  /// For each output k, Σᵢ J_{k,i} tangentᵢ; a nil tangent is zero. The tangents are either
  /// all single (each of its operand's shape) or all batches ([B] + the operand's shape,
  /// the results [B] + the values' shapes).
  func jvp(operands: [Tensor], values: [Tensor], tangents: [Tensor?]) -> [Tensor]
  /// The adjoints of the operands marked in `wrt` (nil elsewhere, or where zero), given a
  /// cotangent for each output (nil: zero; at least one is given).
  func vjp(operands: [Tensor], values: [Tensor], cotangents: [Tensor?], wrt: [Bool]) -> [Tensor?]
  /// The values and `jvp` together, for constant operands and single constant tangents,
  /// when the primitive can do both in one pass; nil otherwise.
  func valueAndJVP(operands: [Tensor], tangents: [Tensor?]) -> (values: [Tensor], tangents: [Tensor])?
}

extension NaryPrimitive {
  @usableFromInline func valueAndJVP(operands: [Tensor], tangents: [Tensor?]) -> (values: [Tensor], tangents: [Tensor])?
  {
    nil
  }
}

/// Applies a primitive of any number of operands and outputs at every level they live at.
/// On a tape a node with more than two parents is recorded as a chain of routing nodes
/// (`Tape.append(parents:pullback:)`); several outputs are a node each, whose pullbacks
/// only collect their cotangents for one joint node, recorded before them (so swept after
/// them), which runs the VJP once for all of them.
@usableFromInline
func apply<P: NaryPrimitive>(_ primitive: P, _ operands: [Tensor]) -> [Tensor] {
  var tag = 0
  for operand in operands { tag = Swift.max(tag, operand.tag) }
  if tag == 0 { return primitive.evaluate(operands) }
  let lifts = operands.map { $0.tag == tag ? $0.lift : nil }
  let primals = operands.indices.map { lifts[$0]?.primal ?? operands[$0] }
  let lift = lifts.first { $0 != nil }.unsafelyUnwrapped.unsafelyUnwrapped
  if lift.tape == nil, primals.allSatisfy(\.isConstant),
    lifts.allSatisfy({ $0?.tangent.map { $0.isConstant } ?? true }),
    let both = primitive.valueAndJVP(operands: primals, tangents: lifts.map { $0?.tangent })
  {
    return zip(both.values, both.tangents).map { Tensor(dual: $0, tangent: $1, tag: tag) }
  }
  let values = apply(primitive, primals)
  if lift.tape == nil {
    let tangents = primitive.jvp(operands: primals, values: values, tangents: lifts.map { $0?.tangent })
    return zip(values, tangents).map { Tensor(dual: $0, tangent: $1, tag: tag) }
  }
  let tape = lift.tape.unsafelyUnwrapped
  let wrt = lifts.map { $0 != nil }
  let traced = operands.indices.filter { wrt[$0] }
  let parents = traced.map { lifts[$0].unsafelyUnwrapped.node }
  if values.count == 1 {
    let node = tape.append(parents: parents) { cotangent in
      let adjoints = primitive.vjp(operands: primals, values: values, cotangents: [cotangent], wrt: wrt)
      return traced.map { adjoints[$0] }
    }
    return [Tensor(tracer: values[0], tape: tape, node: node, tag: tag)]
  }
  let collected = RoutedAdjoints()
  collected.adjoints = [Tensor?](repeating: nil, count: values.count)
  let joint = tape.append(parents: parents) { _ in
    let cotangents = collected.adjoints
    collected.adjoints = [Tensor?](repeating: nil, count: cotangents.count)  // for the next sweep
    let adjoints = primitive.vjp(operands: primals, values: values, cotangents: cotangents, wrt: wrt)
    return traced.map { adjoints[$0] }
  }
  return values.indices.map { k in
    let node = tape.append(first: joint, second: -1) { cotangent in
      collected.adjoints[k] = cotangent
      return (Tensor.unused, nil)  // the joint node's cue
    }
    return Tensor(tracer: values[k], tape: tape, node: node, tag: tag)
  }
}
