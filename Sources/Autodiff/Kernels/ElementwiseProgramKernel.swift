import CKernels
import Foundation

// The evaluator of elementwise programs: every output of a program in one pass over
// memory, block by block.
//
// Implementation goals, in priority order: the values of the unfused operations (the same
// scalar functions; the vector path's exp, log, log1p, tanh, sigmoid and softplus where
// the unfused primitives use them); one pass over the inputs and outputs, the
// intermediates living in a few cache-resident blocks (`blockSize` values each, reused
// as soon as their last reader has run); instructions whose operands are all scalars
// computed once, not per value (with glibc's functions, on every path: a transcendental
// of a scalar input may differ by the vector functions' 1 to 3 ulp from the same value
// broadcast).

/// Values per block: with the dozen or so live intermediates of a typical derivative
/// program, the blocks stay in the 32 KiB L1 data cache.
@usableFromInline let elementwiseBlockSize = 256

/// The values left free before and after a fused program's output of at least
/// `elementwiseMarginMinimum` values (see `evaluateElementwiseProgram`).
let elementwiseOutputMargin = 8
let elementwiseMarginMinimum = 4096

/// The shortest tile read in place (see `elementwiseReadsDirectly`).
@usableFromInline let elementwiseShortestTile = 64

/// Whether an operand of `shape` can be read by the evaluator as it is against an output
/// of shape `target` (all values, one value, or a tile along the leading axes of at least
/// `elementwiseShortestTile` values: blocks stop at a tile's end, and blocks of a few values
/// would cost more in dispatch than broadcasting the tile first).
@usableFromInline
func elementwiseReadsDirectly(_ shape: TensorShape, as target: TensorShape) -> Bool {
  if shape == target { return true }
  let count = shape.reduce(1, *)
  if count == 1 { return true }
  if count < elementwiseShortestTile && count != target.reduce(1, *) { return false }
  var trimmed = shape[...]
  while trimmed.first == 1 { trimmed = trimmed.dropFirst() }
  return trimmed.count <= target.count && Array(target.suffix(trimmed.count)) == Array(trimmed)
}

/// How a program runs on one layout of its inputs (each full, a scalar, or a tile of some
/// length): which instructions are scalars (computed once per call), the registers, and
/// the executor's steps. Built on first use per layout and cached with the program, so
/// that a call costs no planning.
@usableFromInline
final class ElementwisePlan: Sendable {
  /// Where a register points: an input (period 0: every value; > 0: a tile), an output,
  /// or a scratch block.
  enum Register: Sendable {
    case input(Int, period: Int)
    case output(Int)
    case scratch(Int)
  }
  let registers: [Register]
  let scratchCount: Int
  /// The steps; a step reading a scalar instruction has it in `scalarOperand`.
  let steps: [ck_step]
  let scalarOperand: [Int]
  /// Whether a step reads its scalar negated (a − v s as v (−s) + a).
  let negatesScalar: [Bool]
  /// The scalar instructions, in order, and whether each instruction is one.
  let scalarInstructions: [Int]
  /// The shortest tile (0: none).
  let shortestTile: Int

  /// Whether the outputs are summed (`CK_OP_SUM` steps) rather than stored.
  let reducing: Bool

  /// The plan for inputs laid out as `periods` (0: full, −1: scalar, n > 0: a tile of n),
  /// storing the outputs or, when `reducing`, summing each over all values.
  init(_ program: ElementwiseProgram, periods: [Int], reducing: Bool) {
    let instructions = program.instructions
    let instructionCount = instructions.count
    var isScalar = [Bool](repeating: false, count: instructionCount)
    var scalarInstructions: [Int] = []
    for k in 0..<instructionCount {
      switch instructions[k] {
      case .input(let i): isScalar[k] = periods[i] < 0
      case .constant: isScalar[k] = true
      case .unary(_, let a), .power(let a, _): isScalar[k] = isScalar[a]
      case .binary(_, let a, let b): isScalar[k] = isScalar[a] && isScalar[b]
      }
      if isScalar[k] { scalarInstructions.append(k) }
    }
    // Two-operation steps: a vector product read only by the next operation, an addition,
    // a subtraction or a product with a scalar, is computed inside that operation's step
    // (`absorbed[j]` is the product step j computes, and the product gets no step). A
    // square x² is the product x · x (the executor's square is that one multiplication).
    var readerCount = [Int](repeating: 0, count: instructionCount)
    for k in 0..<instructionCount { for operand in instructions[k].operands { readerCount[operand] += 1 } }
    for k in program.outputs { readerCount[k] += 1 }
    var absorbed = [Int](repeating: -1, count: instructionCount)
    var isAbsorbed = [Bool](repeating: false, count: instructionCount)
    /// The factors of instruction i when it is a product or a square.
    func factors(_ i: Int) -> (Int, Int)? {
      switch instructions[i] {
      case .binary(.multiply, let p, let q): return (p, q)
      case .unary(.square, let x): return (x, x)
      default: return nil
      }
    }
    func absorbable(_ i: Int) -> Bool {
      !isScalar[i] && readerCount[i] == 1 && absorbed[i] < 0 && factors(i) != nil
    }
    for j in 0..<instructionCount where !isScalar[j] {
      switch instructions[j] {
      case .binary(.add, let a, let b), .binary(.subtract, let a, let b):
        guard !isScalar[a], !isScalar[b], a != b else { continue }
        if let i = [a, b].first(where: absorbable) {
          absorbed[j] = i
          isAbsorbed[i] = true
        }
      case .binary(.multiply, let a, let b) where isScalar[a] != isScalar[b]:
        let i = isScalar[a] ? b : a
        guard absorbable(i), let (p, q) = factors(i), !isScalar[p], !isScalar[q] else { continue }
        absorbed[j] = i
        isAbsorbed[i] = true
      default: continue
      }
    }
    /// The instructions step k reads: its operands, an absorbed product's in its place.
    func reads(_ k: Int) -> [Int] {
      instructions[k].operands.flatMap { $0 == absorbed[k] ? instructions[$0].operands : [$0] }
    }
    // Registers: the vector inputs, the outputs, then the scratch blocks. An output
    // instruction computed by an operation writes straight into its output (the first
    // output naming it); other vector operations get a scratch block, free again after
    // their last reader.
    var registers: [Register] = []
    var register = [Int32](repeating: -1, count: instructionCount)
    for k in 0..<instructionCount where !isScalar[k] {
      guard case .input(let i) = instructions[k] else { continue }
      register[k] = Int32(registers.count)
      registers.append(.input(i, period: periods[i]))
    }
    let outputRegisters: [Int32] =
      reducing
      ? []
      : program.outputs.indices.map { j in
        registers.append(.output(j))
        return Int32(registers.count - 1)
      }
    var lastReader = [Int](repeating: -1, count: instructionCount)
    for k in 0..<instructionCount where !isAbsorbed[k] {
      for operand in reads(k) { lastReader[operand] = k }
    }
    for k in program.outputs { lastReader[k] = instructionCount }
    for (j, k) in program.outputs.enumerated() where !reducing && register[k] < 0 && !isScalar[k] {
      register[k] = outputRegisters[j]
    }
    var isScratch = [Bool](repeating: false, count: registers.count)
    var free: [Int32] = []
    var scratchCount = 0
    for k in 0..<instructionCount where !isScalar[k] && !isAbsorbed[k] {
      if register[k] < 0 {
        if let reused = free.popLast() {
          register[k] = reused
        } else {
          register[k] = Int32(registers.count)
          registers.append(.scratch(scratchCount))
          isScratch.append(true)
          scratchCount += 1
        }
      }
      for operand in Set(reads(k))
      where lastReader[operand] == k && register[operand] >= 0 && isScratch[Int(register[operand])] {
        free.append(register[operand])
      }
    }
    // Steps: one per vector operation, then the outputs not written in place.
    var steps: [ck_step] = []
    var scalarOperand: [Int] = []
    var negatesScalar: [Bool] = []
    func append(_ op: Int32, _ k: Int, _ a: Int, _ b: Int32 = -1, c: Int = -1, scalar: Int = -1, negated: Bool = false)
    {
      steps.append(
        ck_step(
          op: op, destination: register[k], a: a < 0 ? -1 : register[a], b: b, c: c < 0 ? -1 : register[c], scalar: 0))
      scalarOperand.append(scalar)
      negatesScalar.append(negated)
    }
    for k in 0..<instructionCount where !isScalar[k] && !isAbsorbed[k] {
      if absorbed[k] >= 0, let (p, q) = factors(absorbed[k]) {
        let i = absorbed[k]
        // The product: p q of two vectors, or v s with a scalar s.
        let (v, s): (Int, Int) = isScalar[p] ? (q, p) : (isScalar[q] ? (p, q) : (-1, -1))
        switch instructions[k] {
        case .binary(.add, let a, let b):
          let other = a == i ? b : a
          if v < 0 {
            append(Int32(CK_OP_MUL_ADD), k, p, register[q], c: other)
          } else {
            append(Int32(CK_OP_MULS_ADD), k, v, c: other, scalar: s)
          }
        case .binary(.subtract, let a, let b) where a == i:
          if v < 0 {
            append(Int32(CK_OP_MUL_SUB), k, p, register[q], c: b)
          } else {
            append(Int32(CK_OP_MULS_SUB), k, v, c: b, scalar: s)
          }
        case .binary(.subtract, let a, _):
          if v < 0 {
            append(Int32(CK_OP_SUB_MUL), k, p, register[q], c: a)
          } else {
            append(Int32(CK_OP_MULS_ADD), k, v, c: a, scalar: s, negated: true)  // a − v s = v (−s) + a
          }
        case .binary(.multiply, let a, let b):
          append(Int32(CK_OP_MUL_MUL_S), k, p, register[q], scalar: isScalar[a] ? a : b)
        default: preconditionFailure("elementwise plan: no two-operation step for \(instructions[k])")
        }
        continue
      }
      switch instructions[k] {
      case .input, .constant: continue
      case .unary(let op, let a):
        if let function = op.vectorFunction {
          append(Int32(CK_OP_MAP), k, a, function.rawValue)
        } else {
          append(op.stepCode, k, a)
        }
      case .binary(let op, let a, let b):
        if isScalar[a] {
          let code: Int32
          switch op {
          case .add: code = Int32(CK_OP_ADD_VS)
          case .multiply: code = Int32(CK_OP_MUL_VS)
          case .subtract: code = Int32(CK_OP_SUB_SV)
          case .divide: code = Int32(CK_OP_DIV_SV)
          }
          append(code, k, b, scalar: a)
        } else if isScalar[b] {
          append(op.stepCode + Int32(CK_OP_ADD_VS), k, a, scalar: b)
        } else {
          append(op.stepCode, k, a, register[b])
        }
      case .power(let a, _):
        append(Int32(CK_OP_POW), k, a, scalar: -2 - k)  // the exponent, read from the instruction
      }
    }
    for (j, k) in program.outputs.enumerated() where reducing {
      // A scalar output's sum is its value times the count, done by the caller.
      if !isScalar[k] {
        steps.append(
          ck_step(op: Int32(CK_OP_SUM), destination: register[k], a: register[k], b: Int32(j), c: -1, scalar: 0))
        scalarOperand.append(-1)
        negatesScalar.append(false)
      }
    }
    for (j, k) in program.outputs.enumerated() where !reducing && register[k] != outputRegisters[j] {
      if isScalar[k] {
        steps.append(ck_step(op: Int32(CK_OP_FILL), destination: outputRegisters[j], a: -1, b: -1, c: -1, scalar: 0))
        scalarOperand.append(k)
        negatesScalar.append(false)
      } else {
        steps.append(
          ck_step(op: Int32(CK_OP_COPY), destination: outputRegisters[j], a: register[k], b: -1, c: -1, scalar: 0))
        scalarOperand.append(-1)
        negatesScalar.append(false)
      }
    }
    self.registers = registers
    self.scratchCount = scratchCount
    self.steps = steps
    self.scalarOperand = scalarOperand
    self.negatesScalar = negatesScalar
    self.scalarInstructions = scalarInstructions
    self.shortestTile = periods.filter { $0 > 0 }.min() ?? 0
    self.reducing = reducing
  }
}

/// The outputs of `program` on `inputs`, each of `shape`, or each summed over its values.
///
/// - Parameters:
///   - program: the program; its inputs are `inputs`, in order.
///   - inputs: constant tensors, each of `shape`, a single value, or a tile whose shape is
///     a suffix of `shape` (`elementwiseReadsDirectly`).
///   - shape: the outputs' shape.
///   - summing: whether to return each output's sum over all its values (a rank-0
///     tensor; the values themselves are never stored).
///   - path: the executor: the Swift reference, or the CKernels' AVX2 or AVX-512 one.
/// - Returns: one tensor per output of the program: of `shape`, or rank 0 if `summing`.
/// - Complexity: O(instructions × values), one pass over the inputs and outputs.
@usableFromInline
func evaluateElementwiseProgram(
  _ program: ElementwiseProgram, _ inputs: [Tensor], shape: TensorShape, summing: Bool = false,
  path: KernelPath = .current
) -> [Tensor] {
  let count = shape.reduce(1, *)
  // Large outputs get a margin before and after their values (the tensors are views), so
  // that a slice's adjoint padded by a few zeros can be that view widened in place
  // (`Tape`'s windows) rather than a copy.
  let margin = summing || count < elementwiseMarginMinimum ? 0 : elementwiseOutputMargin
  let results = program.outputs.map { _ in
    TensorStorage.make(uninitializedCount: summing ? 1 : count + 2 * margin)
  }
  let resultShape = summing ? [] : shape
  if summing { for storage in results { storage.base[0] = 0 } }
  if count == 0 { return results.map { Tensor(shape: resultShape, storage: $0) } }
  let periods = inputs.map { input in
    let n = input.scalarCount
    return n == count ? 0 : (n == 1 ? -1 : n)
  }
  let plan = program.plan(for: periods, summing: summing)
  let instructions = program.instructions
  withExtendedLifetime(inputs) {
    withUnsafeTemporaryAllocation(of: Double.self, capacity: instructions.count) { scalars in
      for k in plan.scalarInstructions {
        switch instructions[k] {
        case .input(let i): scalars[k] = inputs[i].base[0]
        case .constant(let bits): scalars[k] = Double(bitPattern: bits)
        case .unary(let op, let a): scalars[k] = op(scalars[a])
        case .binary(let op, let a, let b): scalars[k] = op(scalars[a], scalars[b])
        case .power(let a, let bits): scalars[k] = Foundation.pow(scalars[a], Double(bitPattern: bits))
        }
      }
      if summing {  // scalar outputs: the value times the count
        for (j, k) in program.outputs.enumerated() where plan.scalarInstructions.contains(k) {
          results[j].base[0] = scalars[k] * Double(count)
        }
      }
      withUnsafeTemporaryAllocation(of: ck_step.self, capacity: plan.steps.count) { steps in
        for (j, step) in plan.steps.enumerated() {
          steps[j] = step
          let source = plan.scalarOperand[j]
          if source >= 0 {
            steps[j].scalar = plan.negatesScalar[j] ? -scalars[source] : scalars[source]
          } else if source <= -2, case .power(_, let bits) = instructions[-2 - source] {
            steps[j].scalar = Double(bitPattern: bits)
          }
        }
        withUnsafeTemporaryAllocation(of: ck_register.self, capacity: plan.registers.count) { registers in
          for (r, register) in plan.registers.enumerated() {
            switch register {
            case .input(let i, let period):
              registers[r] = ck_register(base: inputs[i].base, period: period)
            case .output(let j): registers[r] = ck_register(base: results[j].base + margin, period: 0)
            case .scratch(let slot): registers[r] = ck_register(base: nil, period: -1 - slot)  // per piece
            }
          }
          let pieces = ElementwisePieces(total: count, unit: plan.shortestTile > 0 ? plan.shortestTile : 8)
          let shared = ProgramRun(
            steps: UnsafeBufferPointer(steps), registers: UnsafeBufferPointer(registers),
            scratchCount: plan.scratchCount, shortestTile: plan.shortestTile, path: path)
          if pieces.count == 1 {
            withUnsafeTemporaryAllocation(of: Double.self, capacity: results.count) { sums in
              sums.initialize(repeating: 0)
              shared.run(0..<count, sums: sums.baseAddress!)
              if summing {
                for (j, k) in program.outputs.enumerated() where !plan.scalarInstructions.contains(k) {
                  results[j].base[0] = sums[j]
                }
              }
            }
            return
          }
          // Pieces on the worker threads, each with its own scratch and sums; the sums are
          // added in the pieces' order, which depends on the count alone (not the threads).
          let outputs = results.count
          withUnsafeTemporaryAllocation(of: Double.self, capacity: pieces.count * outputs) { partial in
            partial.initialize(repeating: 0)
            let sums = SendablePointer(partial.baseAddress!)
            parallelFor(iterations: pieces.count, maxThreads: Swift.min(Parallelism.maximumThreads, pieces.count)) {
              piece in
              shared.run(pieces[piece], sums: sums.pointer + piece * outputs)
            }
            if summing {
              for (j, k) in program.outputs.enumerated() where !plan.scalarInstructions.contains(k) {
                var total = 0.0
                for piece in 0..<pieces.count { total += partial[piece * outputs + j] }
                results[j].base[0] = total
              }
            }
          }
        }
      }
    }
  }
  return results.map { Tensor(shape: resultShape, storage: $0, offset: margin) }
}

/// Values per piece of elementwise work split across the worker threads: at least this
/// many, so that splitting starts at twice as many, 32768 (PyTorch's
/// `at::internal::GRAIN_SIZE` for its elementwise kernels).
@usableFromInline let elementwiseParallelGrain = 16_384

/// How a program's values are cut into pieces for the worker threads: an even number of
/// pieces of at least `elementwiseParallelGrain` values when there are at least twice that
/// many (one piece otherwise; fewer, perhaps odd, when there are fewer `unit`s), each a
/// whole number of `unit`s (rows of the shortest tile, or whole vectors) but the last.
/// Depends on the count alone, never on the threads, so that the pieces' sums, added in
/// order, do not either.
struct ElementwisePieces {
  let total: Int
  let unit: Int
  let count: Int

  init(total: Int, unit: Int) {
    self.total = total
    self.unit = unit
    let units = total / unit
    let wanted = total >= 2 * elementwiseParallelGrain ? 2 * (total / (2 * elementwiseParallelGrain)) : 1
    count = Swift.max(1, Swift.min(wanted, units))
  }

  /// The values of piece `i`.
  subscript(i: Int) -> Range<Int> {
    let units = total / unit
    let start = units * i / count * unit
    return start..<(i == count - 1 ? total : units * (i + 1) / count * unit)
  }
}

/// A program's steps and registers, run by any thread over a range of its values with
/// scratch blocks of its own. Scratch registers have no base (period −1 − slot) until then.
private struct ProgramRun: @unchecked Sendable {
  let steps: UnsafeBufferPointer<ck_step>
  let registers: UnsafeBufferPointer<ck_register>
  let scratchCount: Int
  /// The shortest tile's length (0: no tile, the range is one row).
  let shortestTile: Int
  let path: KernelPath

  func run(_ range: Range<Int>, sums: UnsafeMutablePointer<Double>) {
    let rowLength = shortestTile > 0 ? shortestTile : range.count
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(scratchCount, 1) * elementwiseBlockSize)
    defer { scratch.deallocate() }
    withUnsafeTemporaryAllocation(of: ck_register.self, capacity: registers.count) { own in
      for (r, register) in registers.enumerated() {
        own[r] =
          register.base == nil
          ? ck_register(base: scratch + (-1 - register.period) * elementwiseBlockSize, period: -1) : register
      }
      withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Double>?.self, capacity: registers.count) { addresses in
        let (s, r, a) = (steps.baseAddress!, own.baseAddress!, addresses.baseAddress!)
        let (first, count, block) = (range.lowerBound, range.count, elementwiseBlockSize)
        switch path {
        case .reference:
          runSteps(steps, own, addresses, first: first, count: count, rowLength: rowLength, sums: sums)
        case .avx2: ck_run_program_avx2(s, steps.count, r, a, own.count, first, count, rowLength, block, sums)
        case .avx512: ck_run_program_avx512(s, steps.count, r, a, own.count, first, count, rowLength, block, sums)
        }
      }
    }
  }
}

/// A pointer handed to the worker threads (each writes its own part).
struct SendablePointer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Double>
  init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
}

extension ElementwiseUnaryOperation {
  /// The executor's operation (`CK_OP_*`) for an operation without a vector function.
  var stepCode: Int32 {
    switch self {
    case .negate: Int32(CK_OP_NEGATE)
    case .square: Int32(CK_OP_SQUARE)
    case .squareRoot: Int32(CK_OP_SQRT)
    case .absoluteValue: Int32(CK_OP_ABS)
    case .relu: Int32(CK_OP_RELU)
    case .sign: Int32(CK_OP_SIGN)
    case .step: Int32(CK_OP_STEP)
    default: Int32(CK_OP_MAP)
    }
  }
}

extension ElementwiseBinaryOperation {
  /// The executor's operation on two vectors (`CK_OP_*_VV`); + 4 gives x op scalar.
  var stepCode: Int32 {
    switch self {
    case .add: Int32(CK_OP_ADD_VV)
    case .subtract: Int32(CK_OP_SUB_VV)
    case .multiply: Int32(CK_OP_MUL_VV)
    case .divide: Int32(CK_OP_DIV_VV)
    }
  }
}

/// The reference executor: `ck_run_program_*`'s loops in Swift, glibc's functions.
private func runSteps(
  _ steps: UnsafeBufferPointer<ck_step>, _ registers: UnsafeMutableBufferPointer<ck_register>,
  _ addresses: UnsafeMutableBufferPointer<UnsafeMutablePointer<Double>?>, first: Int, count: Int, rowLength: Int,
  sums: UnsafeMutablePointer<Double>
) {
  var row = first
  while row < first + count {
    var start = 0
    while start < rowLength {
      let offset = row + start
      let n = Swift.min(elementwiseBlockSize, rowLength - start)
      for r in registers.indices {
        let period = registers[r].period
        let base = registers[r].base.unsafelyUnwrapped
        addresses[r] = period < 0 ? base : base + (period == 0 ? offset : offset % period)
      }
      for step in steps {
        let y = addresses[Int(step.destination)].unsafelyUnwrapped
        let a = step.a >= 0 ? UnsafePointer(addresses[Int(step.a)].unsafelyUnwrapped) : UnsafePointer(y)
        let b =
          step.b >= 0 && step.op != CK_OP_MAP && step.op != CK_OP_SUM
          ? UnsafePointer(addresses[Int(step.b)].unsafelyUnwrapped) : a
        let c = step.c >= 0 ? UnsafePointer(addresses[Int(step.c)].unsafelyUnwrapped) : a
        let s = step.scalar
        switch Int(step.op) {
        case Int(CK_OP_ADD_VV): for i in 0..<n { y[i] = a[i] + b[i] }
        case Int(CK_OP_SUB_VV): for i in 0..<n { y[i] = a[i] - b[i] }
        case Int(CK_OP_MUL_VV): for i in 0..<n { y[i] = a[i] * b[i] }
        case Int(CK_OP_DIV_VV): for i in 0..<n { y[i] = a[i] / b[i] }
        case Int(CK_OP_ADD_VS): for i in 0..<n { y[i] = a[i] + s }
        case Int(CK_OP_SUB_VS): for i in 0..<n { y[i] = a[i] - s }
        case Int(CK_OP_MUL_VS): for i in 0..<n { y[i] = a[i] * s }
        case Int(CK_OP_DIV_VS): for i in 0..<n { y[i] = a[i] / s }
        case Int(CK_OP_SUB_SV): for i in 0..<n { y[i] = s - a[i] }
        case Int(CK_OP_DIV_SV): for i in 0..<n { y[i] = s / a[i] }
        case Int(CK_OP_NEGATE): for i in 0..<n { y[i] = -a[i] }
        case Int(CK_OP_SQUARE): for i in 0..<n { y[i] = a[i] * a[i] }
        case Int(CK_OP_SQRT): for i in 0..<n { y[i] = a[i].squareRoot() }
        case Int(CK_OP_ABS): for i in 0..<n { y[i] = Swift.abs(a[i]) }
        case Int(CK_OP_RELU): for i in 0..<n { y[i] = ElementwiseUnaryOperation.relu(a[i]) }
        case Int(CK_OP_SIGN): for i in 0..<n { y[i] = ElementwiseUnaryOperation.sign(a[i]) }
        case Int(CK_OP_STEP): for i in 0..<n { y[i] = ElementwiseUnaryOperation.step(a[i]) }
        case Int(CK_OP_POW): for i in 0..<n { y[i] = Foundation.pow(a[i], s) }
        case Int(CK_OP_MAP):
          let function = VectorFunction(rawValue: step.b).unsafelyUnwrapped
          for i in 0..<n { y[i] = function.reference(a[i]) }
        case Int(CK_OP_COPY): for i in 0..<n { y[i] = a[i] }
        case Int(CK_OP_MUL_MUL_S): for i in 0..<n { y[i] = (a[i] * b[i]) * s }
        case Int(CK_OP_MUL_ADD): for i in 0..<n { y[i] = a[i] * b[i] + c[i] }
        case Int(CK_OP_MUL_SUB): for i in 0..<n { y[i] = a[i] * b[i] - c[i] }
        case Int(CK_OP_SUB_MUL): for i in 0..<n { y[i] = c[i] - a[i] * b[i] }
        case Int(CK_OP_MULS_ADD): for i in 0..<n { y[i] = a[i] * s + c[i] }
        case Int(CK_OP_MULS_SUB): for i in 0..<n { y[i] = a[i] * s - c[i] }
        case Int(CK_OP_SUM):
          var total = 0.0
          for i in 0..<n { total += a[i] }
          sums[Int(step.b)] += total
        default: for i in 0..<n { y[i] = s }
        }
      }
      start += n
    }
    row += rowLength
  }
}
