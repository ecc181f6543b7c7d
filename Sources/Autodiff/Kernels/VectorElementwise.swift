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
  guard count >= vectorElementwiseMinimum else { return false }
  switch path {
  case .reference: return false
  case .avx2: ck_elementwise_avx2(operation.rawValue, a, b, scalar, y, count)
  case .avx512: ck_elementwise_avx512(operation.rawValue, a, b, scalar, y, count)
  }
  return true
}
