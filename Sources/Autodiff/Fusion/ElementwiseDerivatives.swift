// The derivative rules of elementwise programs, as programs: symbolic differentiation of a
// straight-line program, forward (the JVP) and backward (the adjoints), with the rule of
// the unfused primitive for each operation (`UnaryMath.swift`, `Arithmetic.swift`), up to
// the grouping of products and quotients (a quotient's rule for its divisor is
// −d (y / b) here, −(y d) / b in `Divide`'s JVP): equal to rounding, and near the ends of
// the range one grouping may overflow where the other does not.
//
// A derived program reads the original inputs, then the original outputs' values (so a rule
// that needs y = f(x), such as exp's or tanh's, reads it instead of computing it again),
// then the tangents or the cotangents. A program may have several outputs (the adjoints of
// all inputs, say); its JVP computes all their tangents in one pass, and its adjoint
// program takes the cotangents of all of them at once. Because a derived program is itself an elementwise
// program, it is evaluated in one pass and differentiated again the same way: a fused
// function has fused derivatives at every order.

extension ElementwiseProgram {
  /// The JVP program for tangents of the inputs marked in `mask`.
  ///
  /// Inputs: the n inputs, the m outputs' values (unless `readsValues` is false: then the
  /// program computes what it needs of them again), then one tangent per marked input, in
  /// order. Outputs: Σᵢ ∂y_k/∂xᵢ ẋᵢ for each output y_k (the constant 0 when no marked
  /// input reaches it).
  func tangentProgram(mask: [Bool], readsValues: Bool = true) -> ElementwiseProgram {
    cached(.tangent(mask, readsValues: readsValues)) {
      let builder = ElementwiseBuilder()
      let map = copyForDerivative(into: builder, readsValues: readsValues)
      var tangentInputs = [Int?](repeating: nil, count: inputCount)
      var next = inputCount + (readsValues ? outputs.count : 0)
      for i in 0..<inputCount where mask[i] {
        tangentInputs[i] = next
        next += 1
      }
      var tangents = [Int?](repeating: nil, count: instructions.count)
      for k in instructions.indices {
        if case .input(let i) = instructions[k] {
          tangents[k] = tangentInputs[i].map { builder.input($0) }
          continue
        }
        var sum: Int?
        for (position, operand) in instructions[k].operands.enumerated() {
          guard let d = tangents[operand], let term = pushforward(k, position, d, builder, map) else { continue }
          sum = sum.map { builder.binary(.add, $0, term) } ?? term
        }
        tangents[k] = sum
      }
      return builder.finish(outputs: outputs.map { tangents[$0] ?? builder.constant(0) }, inputCount: next)
    }
  }

  /// The values and the JVP in one program: inputs, the n inputs then one tangent per
  /// input marked in `mask`; outputs, the m outputs then their m tangents. One pass at a
  /// dual level whose primals are constants reads the inputs once for both.
  func valueAndTangentProgram(mask: [Bool]) -> ElementwiseProgram {
    cached(.valueAndTangent(mask)) {
      let tangents = tangentProgram(mask: mask, readsValues: false)
      let builder = ElementwiseBuilder()
      var map = [Int](repeating: -1, count: instructions.count)
      for k in instructions.indices { map[k] = builder.copy(instructions[k], map: map) }
      var tangentMap = [Int](repeating: -1, count: tangents.instructions.count)
      for k in tangents.instructions.indices { tangentMap[k] = builder.copy(tangents.instructions[k], map: tangentMap) }
      return builder.finish(
        outputs: outputs.map { map[$0] } + tangents.outputs.map { tangentMap[$0] }, inputCount: tangents.inputCount)
    }
  }

  /// The adjoint program for the inputs marked in `wrt`, through the outputs marked in
  /// `seeds` (all of them by default).
  ///
  /// Inputs: the n inputs, the m outputs' values (unless `readsValues` is false), then one
  /// cotangent ȳ_k per seeded output, in order. Outputs: Σ_k ȳ_k ∂y_k/∂xᵢ for each marked
  /// input, in order (the constant 0 for an input no seeded output depends on).
  func adjointProgram(wrt: [Bool], seeds: [Bool]? = nil, readsValues: Bool = true) -> ElementwiseProgram {
    let seeds = seeds ?? [Bool](repeating: true, count: outputs.count)
    return cached(.adjoints(wrt, seeds: seeds, readsValues: readsValues)) {
      let builder = ElementwiseBuilder()
      let map = copyForDerivative(into: builder, readsValues: readsValues)
      var next = inputCount + (readsValues ? outputs.count : 0)
      var adjoints = [Int?](repeating: nil, count: instructions.count)
      for (k, output) in outputs.enumerated() where seeds[k] {
        let seed = builder.input(next)
        next += 1
        adjoints[output] = adjoints[output].map { builder.binary(.add, $0, seed) } ?? seed
      }
      for k in stride(from: instructions.count - 1, through: 0, by: -1) {
        guard let bar = adjoints[k] else { continue }
        for (position, operand) in instructions[k].operands.enumerated() {
          guard let term = pushforward(k, position, bar, builder, map) else { continue }
          adjoints[operand] = adjoints[operand].map { builder.binary(.add, $0, term) } ?? term
        }
      }
      let outputs = (0..<inputCount).filter { wrt[$0] }.map { i in
        instruction(readingInput: i).flatMap { adjoints[$0] } ?? builder.constant(0)
      }
      return builder.finish(outputs: outputs, inputCount: next)
    }
  }

  /// Copies the instructions into `builder`, each output computed by an operation read
  /// from its value (input n + k) rather than computed again if `readsValues`; returns the
  /// new index of each instruction.
  private func copyForDerivative(into builder: ElementwiseBuilder, readsValues: Bool) -> [Int] {
    var valueInput = [Int: Int]()
    for (k, output) in outputs.enumerated() where readsValues && valueInput[output] == nil {
      valueInput[output] = inputCount + k
    }
    var map = [Int](repeating: -1, count: instructions.count)
    for k in instructions.indices {
      switch instructions[k] {
      case .unary, .binary, .power:
        map[k] = valueInput[k].map { builder.input($0) } ?? builder.copy(instructions[k], map: map)
      case .input, .constant:
        map[k] = builder.copy(instructions[k], map: map)
      }
    }
    return map
  }

  /// (∂ instruction k / ∂ its operand at `position`) · d, built into `builder` (`map` gives
  /// the new index of each original instruction); nil when the partial is identically 0.
  ///
  /// The rules are those of the unfused primitives: d exp x = y dx, d log x = dx / x,
  /// d log1p x = dx / (x + 1), d tanh x = dx (1 − y²), d σ(x) = dx y (1 − y),
  /// d softplus x = dx σ(x), d x² = dx (2x), d √x = dx / (2y), d |x| = dx sign(x),
  /// d relu x = dx 1[x > 0], d x^p = dx p x^(p−1), d(a/b) = da / b − db (y / b).
  private func pushforward(_ k: Int, _ position: Int, _ d: Int, _ b: ElementwiseBuilder, _ map: [Int]) -> Int? {
    let y = map[k]
    switch instructions[k] {
    case .input, .constant:
      return nil
    case .unary(let operation, let operand):
      let x = map[operand]
      switch operation {
      case .negate: return b.unary(.negate, d)
      case .exp: return b.binary(.multiply, d, y)
      case .log: return b.binary(.divide, d, x)
      case .log1p: return b.binary(.divide, d, b.binary(.add, x, b.constant(1)))
      case .tanh: return b.binary(.multiply, d, b.binary(.subtract, b.constant(1), b.unary(.square, y)))
      case .sigmoid:
        return b.binary(.multiply, d, b.binary(.multiply, y, b.binary(.subtract, b.constant(1), y)))
      case .softplus: return b.binary(.multiply, d, b.unary(.sigmoid, x))
      case .square: return b.binary(.multiply, d, b.binary(.multiply, b.constant(2), x))
      case .squareRoot: return b.binary(.divide, d, b.binary(.multiply, b.constant(2), y))
      case .absoluteValue: return b.binary(.multiply, d, b.unary(.sign, x))
      case .relu: return b.binary(.multiply, d, b.unary(.step, x))
      case .sign, .step: return nil
      }
    case .binary(let operation, let left, let right):
      switch (operation, position) {
      case (.add, _), (.subtract, 0): return d
      case (.subtract, _): return b.unary(.negate, d)
      case (.multiply, 0): return b.binary(.multiply, d, map[right])
      case (.multiply, _): return b.binary(.multiply, d, map[left])
      case (.divide, 0): return b.binary(.divide, d, map[right])
      case (.divide, _): return b.unary(.negate, b.binary(.multiply, d, b.binary(.divide, y, map[right])))
      }
    case .power(let operand, let bits):
      let p = Double(bitPattern: bits)
      if p == 0 { return nil }
      return b.binary(.multiply, d, b.binary(.multiply, b.constant(p), b.power(map[operand], p - 1)))
    }
  }
}
