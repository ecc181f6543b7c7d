import Foundation
import Synchronization

// Elementwise programs: the expression form of a chain of elementwise operations, from
// which fused primitives are evaluated (one pass over memory, `ElementwiseProgramKernel`)
// and differentiated (symbolic JVP and adjoint programs, `ElementwiseDerivatives`).
//
// Implementation goals, in priority order: values and derivatives equal to those of the
// unfused operations (the same scalar functions, the same derivative rules); programs
// kept small (common subexpressions shared, constants folded, identities removed, dead
// instructions dropped), since every derivative program is evaluated per value; derived
// programs built once per program and cached.

/// One elementwise operation of one operand.
@usableFromInline
enum ElementwiseUnaryOperation: UInt8, Hashable, Sendable, CaseIterable {
  case negate, exp, log, log1p, tanh, sigmoid, softplus, square, squareRoot, absoluteValue, relu
  /// sign(x): 1, −1 or 0; its derivative is zero (the derivative rule of |x|).
  case sign
  /// 1[x > 0]; its derivative is zero (the derivative rule of relu).
  case step

  /// The operation on one value, as the unfused primitive's scalar kernel computes it.
  func callAsFunction(_ x: Double) -> Double {
    switch self {
    case .negate: -x
    case .exp: VectorFunction.exp.reference(x)
    case .log: VectorFunction.log.reference(x)
    case .log1p: VectorFunction.log1p.reference(x)
    case .tanh: VectorFunction.tanh.reference(x)
    case .sigmoid: VectorFunction.sigmoid.reference(x)
    case .softplus: VectorFunction.softplus.reference(x)
    case .square: x * x
    case .squareRoot: x.squareRoot()
    case .absoluteValue: Swift.abs(x)
    case .relu: Swift.max(x, 0)
    case .sign: x > 0 ? 1 : (x < 0 ? -1 : 0)
    case .step: x > 0 ? 1 : 0
    }
  }

  /// The CKernels function that computes this operation on the vector paths, if any.
  var vectorFunction: VectorFunction? {
    switch self {
    case .exp: .exp
    case .log: .log
    case .log1p: .log1p
    case .tanh: .tanh
    case .sigmoid: .sigmoid
    case .softplus: .softplus
    default: nil
    }
  }
}

/// One elementwise operation of two operands.
@usableFromInline
enum ElementwiseBinaryOperation: UInt8, Hashable, Sendable {
  case add, subtract, multiply, divide

  func callAsFunction(_ a: Double, _ b: Double) -> Double {
    switch self {
    case .add: a + b
    case .subtract: a - b
    case .multiply: a * b
    case .divide: a / b
    }
  }
}

/// One instruction of an elementwise program. Operands are indices of earlier
/// instructions; constants and exponents are kept as bit patterns (so that 0 and −0, or
/// two NaNs, are told apart and shared exactly).
@usableFromInline
enum ElementwiseInstruction: Hashable, Sendable {
  /// The program's input at this position.
  case input(Int)
  case constant(bits: UInt64)
  case unary(ElementwiseUnaryOperation, Int)
  case binary(ElementwiseBinaryOperation, Int, Int)
  /// x^p for a constant p.
  case power(Int, exponentBits: UInt64)

  /// The operands, in order.
  var operands: [Int] {
    switch self {
    case .input, .constant: []
    case .unary(_, let a), .power(let a, _): [a]
    case .binary(_, let a, let b): [a, b]
    }
  }
}

/// A straight-line elementwise program: instructions in order, each computed from earlier
/// ones, and the instructions whose values are its outputs.
///
/// Immutable once built. The programs derived from it (its JVP for a set of tangents, its
/// adjoints) are built on first use and cached, so that a fused function differentiated in
/// a loop derives its rules once.
@usableFromInline
final class ElementwiseProgram: Sendable {
  @usableFromInline let instructions: [ElementwiseInstruction]
  /// How many inputs the program reads (`.input(i)` has i < inputCount).
  @usableFromInline let inputCount: Int
  /// The instructions whose values are the outputs.
  @usableFromInline let outputs: [Int]

  enum DerivedKey: Hashable {
    case tangent([Bool], readsValues: Bool)
    case valueAndTangent([Bool])
    case adjoints([Bool], seeds: [Bool], readsValues: Bool)
  }
  let derived = Mutex<[DerivedKey: ElementwiseProgram]>([:])
  /// The execution plans built so far, by the inputs' layout (`ElementwisePlan`).
  let plans = Mutex<[[Int]: ElementwisePlan]>([:])

  /// The plan for inputs laid out as `periods`, storing or summing the outputs, built on
  /// first use.
  func plan(for periods: [Int], summing: Bool) -> ElementwisePlan {
    let key = periods + [summing ? 1 : 0]
    if let plan = plans.withLock({ $0[key] }) { return plan }
    let plan = ElementwisePlan(self, periods: periods, reducing: summing)
    plans.withLock { $0[key] = plan }
    return plan
  }

  init(instructions: [ElementwiseInstruction], inputCount: Int, outputs: [Int]) {
    self.instructions = instructions
    self.inputCount = inputCount
    self.outputs = outputs
  }

  /// The instruction that reads input `i`, if the program reads it.
  @usableFromInline
  func instruction(readingInput i: Int) -> Int? {
    instructions.firstIndex(of: .input(i))
  }

  /// Whether output `k` is the constant 0 (a derivative that vanishes identically).
  @usableFromInline
  func outputIsZero(_ k: Int) -> Bool {
    if case .constant(let bits) = instructions[outputs[k]] { return Double(bitPattern: bits) == 0 }
    return false
  }

  /// The program built once by `make` under `key`.
  func cached(_ key: DerivedKey, _ make: () -> ElementwiseProgram) -> ElementwiseProgram {
    if let program = derived.withLock({ $0[key] }) { return program }
    let program = make()
    return derived.withLock { table in
      if let existing = table[key] { return existing }
      table[key] = program
      return program
    }
  }

  /// A readable listing, one instruction per line (for tests and debugging).
  var listing: String {
    instructions.enumerated().map { k, instruction in
      let text: String
      switch instruction {
      case .input(let i): text = "input \(i)"
      case .constant(let bits): text = "\(Double(bitPattern: bits))"
      case .unary(let op, let a): text = "\(op) %\(a)"
      case .binary(let op, let a, let b): text = "\(op) %\(a) %\(b)"
      case .power(let a, let bits): text = "power %\(a) \(Double(bitPattern: bits))"
      }
      return "%\(k) = \(text)" + (outputs.contains(k) ? "  (output \(outputs.firstIndex(of: k)!))" : "")
    }.joined(separator: "\n")
  }
}

/// Builds an elementwise program instruction by instruction, sharing common
/// subexpressions, folding constants, removing identities (x + (−0), x − 0, x · 1, x / 1,
/// −(−x)) and moving signs and constant factors outward (a + (−b) = a − b,
/// (c₁ a)(c₂ b) = c₁c₂ (a b)), which the symbolic derivatives produce in numbers: every
/// instruction saved is a pass over a block per value.
///
/// Exact, signed zeros included (x + 0 is not x at x = −0, so only x + (−0) is dropped),
/// except where constant factors are regrouped: c₁ (c₂ x) becomes (c₁c₂) x (folded only
/// when c₁c₂ is a normal number) and (c p) q becomes c (p q). That is a rounding's
/// difference, and near the ends of the range an overflow or underflow where the written
/// order had none, or the reverse. Not simplified: x · 0 and x − x (NaN and ∞ must
/// propagate as in the unfused operations).
@usableFromInline
final class ElementwiseBuilder {
  @usableFromInline var instructions: [ElementwiseInstruction] = []
  var indices: [ElementwiseInstruction: Int] = [:]

  @usableFromInline init() {}

  func emit(_ instruction: ElementwiseInstruction) -> Int {
    if let index = indices[instruction] { return index }
    instructions.append(instruction)
    indices[instruction] = instructions.count - 1
    return instructions.count - 1
  }

  /// The value of instruction `k` if it is a constant.
  func constantValue(_ k: Int) -> Double? {
    if case .constant(let bits) = instructions[k] { return Double(bitPattern: bits) }
    return nil
  }

  /// x if instruction k is −x.
  func negated(_ k: Int) -> Int? {
    if case .unary(.negate, let x) = instructions[k] { return x }
    return nil
  }

  /// (c, x) if instruction k is c · x with a constant c.
  func scaled(_ k: Int) -> (Double, Int)? {
    guard case .binary(.multiply, let a, let b) = instructions[k] else { return nil }
    if let c = constantValue(a) { return (c, b) }
    if let c = constantValue(b) { return (c, a) }
    return nil
  }

  @usableFromInline func input(_ i: Int) -> Int { emit(.input(i)) }

  @usableFromInline func constant(_ value: Double) -> Int { emit(.constant(bits: value.bitPattern)) }

  @usableFromInline
  func unary(_ operation: ElementwiseUnaryOperation, _ a: Int) -> Int {
    if let x = constantValue(a) { return constant(operation(x)) }
    if operation == .negate {
      if let inner = negated(a) { return inner }  // −(−x) = x
      if let (c, x) = scaled(a) { return binary(.multiply, constant(-c), x) }  // −(c x) = (−c) x
    }
    return emit(.unary(operation, a))
  }

  @usableFromInline
  func binary(_ operation: ElementwiseBinaryOperation, _ a: Int, _ b: Int) -> Int {
    let ca = constantValue(a)
    let cb = constantValue(b)
    if let ca, let cb { return constant(operation(ca, cb)) }
    switch operation {
    case .add:
      if let ca, ca == 0, ca.sign == .minus { return b }  // (−0) + b = b, signed zeros too
      if let cb, cb == 0, cb.sign == .minus { return a }
      if let q = negated(b) { return binary(.subtract, a, q) }  // a + (−q) = a − q
      if let p = negated(a) { return binary(.subtract, b, p) }  // (−p) + b = b − p
      return emit(.binary(.add, Swift.min(a, b), Swift.max(a, b)))
    case .subtract:
      if let cb, cb == 0, cb.sign == .plus { return a }  // a − (+0) = a
      if let ca, ca == 0, ca.sign == .minus { return unary(.negate, b) }  // (−0) − b = −b
      if let q = negated(b) { return binary(.add, a, q) }  // a − (−q) = a + q
      return emit(.binary(.subtract, a, b))
    case .multiply:
      if ca == 1 { return b }
      if cb == 1 { return a }
      if ca == -1 { return unary(.negate, b) }
      if cb == -1 { return unary(.negate, a) }
      // Signs and constant factors move outward, where they cancel and fold:
      // (−p) b = −(p b), (c p) b = c (p b), c₁ (c₂ q) = (c₁ c₂) q.
      if let p = negated(a) { return unary(.negate, binary(.multiply, p, b)) }
      if let q = negated(b) { return unary(.negate, binary(.multiply, a, q)) }
      if let ca, let (c, q) = scaled(b), (ca * c).isNormal { return binary(.multiply, constant(ca * c), q) }
      if let cb, let (c, p) = scaled(a), (cb * c).isNormal { return binary(.multiply, constant(cb * c), p) }
      if ca == nil, cb == nil {
        if let (c, p) = scaled(a) { return binary(.multiply, constant(c), binary(.multiply, p, b)) }
        if let (c, q) = scaled(b) { return binary(.multiply, constant(c), binary(.multiply, a, q)) }
      }
      return emit(.binary(.multiply, Swift.min(a, b), Swift.max(a, b)))
    case .divide:
      if cb == 1 { return a }
      if cb == -1 { return unary(.negate, a) }
      if let p = negated(a) { return unary(.negate, binary(.divide, p, b)) }  // (−p) / b = −(p / b)
      return emit(.binary(.divide, a, b))
    }
  }

  @usableFromInline
  func power(_ a: Int, _ exponent: Double) -> Int {
    if exponent == 1 { return a }
    if exponent == 0 { return constant(1) }
    if exponent == 2 { return unary(.square, a) }
    if let x = constantValue(a) { return constant(Foundation.pow(x, exponent)) }
    return emit(.power(a, exponentBits: exponent.bitPattern))
  }

  /// Copies `instruction` of another program, its operands renamed by `map`.
  func copy(_ instruction: ElementwiseInstruction, map: [Int]) -> Int {
    switch instruction {
    case .input(let i): input(i)
    case .constant(let bits): constant(Double(bitPattern: bits))
    case .unary(let op, let a): unary(op, map[a])
    case .binary(let op, let a, let b): binary(op, map[a], map[b])
    case .power(let a, let bits): power(map[a], Double(bitPattern: bits))
    }
  }

  /// The program computing `outputs`, with the instructions they do not depend on removed.
  @usableFromInline
  func finish(outputs: [Int], inputCount: Int) -> ElementwiseProgram {
    var live = [Bool](repeating: false, count: instructions.count)
    for k in outputs { live[k] = true }
    for k in stride(from: instructions.count - 1, through: 0, by: -1) where live[k] {
      for operand in instructions[k].operands { live[operand] = true }
    }
    var renamed = [Int](repeating: -1, count: instructions.count)
    var kept: [ElementwiseInstruction] = []
    for k in instructions.indices where live[k] {
      renamed[k] = kept.count
      switch instructions[k] {
      case .input, .constant: kept.append(instructions[k])
      case .unary(let op, let a): kept.append(.unary(op, renamed[a]))
      case .binary(let op, let a, let b): kept.append(.binary(op, renamed[a], renamed[b]))
      case .power(let a, let bits): kept.append(.power(renamed[a], exponentBits: bits))
      }
    }
    return ElementwiseProgram(instructions: kept, inputCount: inputCount, outputs: outputs.map { renamed[$0] })
  }
}
