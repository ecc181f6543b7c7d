import CKernels

// The unfused elementwise primitives' loops on the CPU's vector width.
//
// The Swift loops of ElementwiseKernels.swift compile for the baseline target: two values
// per SSE2 instruction. On values that sit in the L1 cache (a thousand or so: the
// vectors of Rosenbrock-1000, a logistic regression's margins) an addition then runs at a
// third of what AVX-512 does (measured with clang on this repository's CPU: 1000 values,
// 300 ns vs 136 ns); on arrays that stream from L2 or memory, both run at the bandwidth.
// So the arithmetic, negation, square and scaled product go to `ck_elementwise_*`, the same
// IEEE operations per value (no FMA): every path gives the reference's values bit for bit.

/// An operation `ck_elementwise_*` runs (its `CK_OP_*` code).
@usableFromInline
enum VectorElementwise: Int32, CaseIterable, Sendable {
  /// a + b (a + s with a scalar).
  case add = 0
  /// a − b.
  case subtract = 1
  /// a b.
  case multiply = 2
  /// a / b.
  case divide = 3
  /// a + s.
  case addScalar = 4
  /// a − s.
  case subtractScalar = 5
  /// a s.
  case multiplyScalar = 6
  /// a / s.
  case divideScalar = 7
  /// s − a.
  case scalarMinus = 8
  /// s / a.
  case scalarOver = 9
  /// −a.
  case negate = 10
  /// a².
  case square = 11
  /// (s a) b: the scaled product of the product rule.
  case scaledMultiply = 28

  /// The operation with a scalar second operand (a op s), for the four arithmetic ones.
  @usableFromInline var withScalarSecond: VectorElementwise? {
    switch self {
    case .add: .addScalar
    case .subtract: .subtractScalar
    case .multiply: .multiplyScalar
    case .divide: .divideScalar
    default: nil
    }
  }

  /// The operation with a scalar first operand (s op a), as an operation of a and s.
  @usableFromInline var withScalarFirst: VectorElementwise? {
    switch self {
    case .add: .addScalar  // s + a = a + s exactly
    case .subtract: .scalarMinus
    case .multiply: .multiplyScalar  // s a = a s exactly
    case .divide: .scalarOver
    default: nil
    }
  }
}

/// The fewest values worth a call: below, the baseline loop is as fast.
@usableFromInline let vectorElementwiseMinimum = 32

/// y[i] = a[i] op b[i] (or op s) for i < n on `path`'s vector loops, and true; false, with
/// nothing written, on the reference path or for fewer than `vectorElementwiseMinimum`
/// values (the caller then runs its Swift loop, the reference).
///
/// - Parameters:
///   - operation: the operation.
///   - a: the first operand's values.
///   - b: the second operand's values (nil for the one-operand and scalar operations).
///   - scalar: s.
///   - y: the result's values (may be `a`: in place).
///   - count: n.
///   - path: the kernel path.
@usableFromInline
func vectorElementwise(
  _ operation: VectorElementwise, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>?, scalar: Double = 0,
  _ y: UnsafeMutablePointer<Double>, count: Int, path: KernelPath = .current
) -> Bool {
  guard count >= vectorElementwiseMinimum, path != .reference else { return false }
  let (code, p) = (operation.rawValue, ElementwisePointers(a: a, b: b, y: y))
  forEachElementwisePiece(count: count) { piece in
    let (a, b, y) = (p.a + piece.lowerBound, p.b.map { $0 + piece.lowerBound }, p.y + piece.lowerBound)
    if path == .avx512 {
      ck_elementwise_avx512(code, a, b, scalar, y, piece.count)
    } else {
      ck_elementwise_avx2(code, a, b, scalar, y, piece.count)
    }
  }
  return true
}

/// `body(piece)` for pieces covering 0..<count: the whole range on the calling thread below
/// twice `elementwiseParallelGrain` values (or with one thread allowed), else one piece per
/// thread, up to `Parallelism.maximumThreads` of at least that grain, each starting on a
/// multiple of 8 values (a 64-byte line from an aligned start). On values that stream from
/// L2 or memory, each core brings its own cache's bandwidth. For elementwise loops only,
/// whose values do not depend on the split (each is computed alone).
func forEachElementwisePiece(count: Int, _ body: @Sendable (Range<Int>) -> Void) {
  let threads =
    count >= 2 * elementwiseParallelGrain ? Swift.min(Parallelism.maximumThreads, count / elementwiseParallelGrain) : 1
  guard threads > 1 else { return body(0..<count) }
  let lines = count / 8
  parallelFor(iterations: threads, maxThreads: threads) { w in
    body(lines * w / threads * 8..<(w == threads - 1 ? count : lines * (w + 1) / threads * 8))
  }
}

/// The operands' and result's addresses, handed to the worker threads.
struct ElementwisePointers: @unchecked Sendable {
  let a: UnsafePointer<Double>
  let b: UnsafePointer<Double>?
  let y: UnsafeMutablePointer<Double>
  init(a: UnsafePointer<Double>, b: UnsafePointer<Double>?, y: UnsafeMutablePointer<Double>) {
    (self.a, self.b, self.y) = (a, b, y)
  }
}

/// The product rule's value in one pass, for constants of one shape:
///
/// ```
/// y = (s a) ⊙ b + (s c) ⊙ d
/// ```
///
/// the JVP of a product (s = 1: da ⊙ b + a ⊙ db) or of a `ScaledMultiply`, which composed
/// of the differentiable operations is three passes, two temporaries and three recorded
/// operations' dispatch. Each operation is rounded as written (no FMA), as the unfused
/// products and sum round it: the values are theirs bit for bit.
///
/// - Parameters:
///   - a: the first product's first factor.
///   - b: its second.
///   - c: the second product's first factor.
///   - d: its second.
///   - s: the scale of both products.
///   - shape: the shape all four must have.
///   - path: the kernel path.
/// - Returns: y, or nil (nothing computed) unless all four are constants of `shape`: the
///   caller then composes the differentiable operations (a tracer's derivative is
///   recorded; broadcasting is theirs).
/// - Complexity: one pass over the four inputs and the result.
@inlinable
func productRule(
  _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor, scale s: Double, shape: TensorShape,
  path: KernelPath = .current
) -> Tensor? {
  guard a.isConstant, b.isConstant, c.isConstant, d.isConstant, a.shape == shape, b.shape == shape,
    c.shape == shape, d.shape == shape
  else { return nil }
  let count = shape.product
  let result = TensorStorage.make(uninitializedCount: count)
  withExtendedLifetime((a, b, c, d)) {
    let (pa, pb, pc, pd, y) = (a.base, b.base, c.base, d.base, result.base)
    switch count >= vectorElementwiseMinimum ? path : .reference {
    case .reference: for i in 0..<count { y[i] = (s * pa[i]) * pb[i] + (s * pc[i]) * pd[i] }
    case let vector: productRuleOnThreads(pa, pb, pc, pd, s, y, count: count, path: vector)
    }
  }
  return Tensor(shape: shape, storage: result)
}

/// `ck_product_rule_*` on `path`, on the worker threads for a large count.
@usableFromInline
func productRuleOnThreads(
  _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ d: UnsafePointer<Double>,
  _ s: Double, _ y: UnsafeMutablePointer<Double>, count: Int, path: KernelPath
) {
  let run = path == .avx512 ? ck_product_rule_avx512 : ck_product_rule_avx2
  let (first, second) = (ElementwisePointers(a: a, b: b, y: y), ElementwisePointers(a: c, b: d, y: y))
  forEachElementwisePiece(count: count) { piece in
    let (i, n) = (piece.lowerBound, piece.count)
    run(first.a + i, first.b.unsafelyUnwrapped + i, second.a + i, second.b.unsafelyUnwrapped + i, s, first.y + i, n)
  }
}
