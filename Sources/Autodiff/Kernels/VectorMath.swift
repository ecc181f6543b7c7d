// Transcendental functions written as straight-line arithmetic, so that a loop calling
// them vectorizes (glibc's are opaque calls, one value at a time), and the maps that run
// exp, log, log1p, sigmoid and softplus on the CKernels' vectorized functions.

import CKernels
import Foundation

/// e^x − 1 for x in [−40, 0], within 1 ulp of the correctly rounded value, branch-free.
///
/// Range reduction x = k ln 2 + r with |r| ≤ ln 2 / 2 (Cody–Waite, two-part ln 2), the
/// degree-13 Taylor polynomial of e^r − 1 (truncation below 1e−17 relative), and
/// e^x − 1 = 2^k (e^r − 1) + (2^k − 1), both terms exact or nearly so for k ≤ 0.
/// k is rounded with the 1.5 · 2^52 shifter and 2^k built from its bits, so the loop needs
/// no conversion instruction the baseline x86-64 target lacks.
///
/// - Precondition: callers clamp x to [−40, 0] (NaN passes through as NaN).
@inlinable @inline(__always)
func expm1NonPositive(_ x: Double) -> Double {
  let shifter = 6755399441055744.0  // 1.5 · 2^52
  let shifted = x * 1.4426950408889634 + shifter
  let k = shifted - shifter
  let r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
  // e^r − 1 = r + r²/2! + … + r¹³/13!
  var p = 1.0 / 6227020800.0
  p = p * r + 1.0 / 479001600.0
  p = p * r + 1.0 / 39916800.0
  p = p * r + 1.0 / 3628800.0
  p = p * r + 1.0 / 362880.0
  p = p * r + 1.0 / 40320.0
  p = p * r + 1.0 / 5040.0
  p = p * r + 1.0 / 720.0
  p = p * r + 1.0 / 120.0
  p = p * r + 1.0 / 24.0
  p = p * r + 1.0 / 6.0
  p = p * r + 0.5
  let em1 = (p * r) * r + r
  // 2^k from the shifter's low bits: shifted's bit pattern is that of the shifter plus k.
  let exponent = Int64(bitPattern: shifted.bitPattern) &- Int64(bitPattern: shifter.bitPattern)
  let scale = Double(bitPattern: UInt64(bitPattern: (exponent &+ 1023) &<< 52))
  return scale * em1 + (scale - 1)
}

/// tanh(x) = sign(x) · (−e) / (2 + e) with e = e^(−2|x|) − 1 ∈ (−1, 0]: no cancellation
/// near 0, no branch, exact saturation to ±1 beyond |x| = 20; within 2.5 ulp of the true value (measured against
/// an extended-precision tanh; 3 ulp against glibc's, tested from 1e−300 to 30).
@inlinable @inline(__always)
func tanhKernel(_ x: Double) -> Double {
  let t: Double = -2 * x.magnitude
  let e: Double = expm1NonPositive(t < -40 ? -40 : t)
  let magnitude: Double = -e / (2 + e)
  return Double(signOf: x, magnitudeOf: magnitude)
}

/// An elementwise function with a vectorized kernel in the CKernels target (`ck_map_*`).
@usableFromInline
enum VectorFunction: Int32, CaseIterable, Sendable {
  case exp = 0
  case log = 1
  case log1p = 2
  case sigmoid = 3
  case softplus = 4

  /// The reference: glibc's functions, composed as the primitives' scalar kernels are.
  func reference(_ x: Double) -> Double {
    switch self {
    case .exp: Foundation.exp(x)
    case .log: Foundation.log(x)
    case .log1p: Foundation.log1p(x)
    case .sigmoid: x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    case .softplus: Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    }
  }
}

/// y = f(x) elementwise on `path`: the reference (glibc, one value at a time) or the
/// CKernels functions, 4 or 8 values per instruction and within 1 to 3 ulp of the correctly
/// rounded value (`CKernels.h` states each bound; `KernelPathTests` measures them).
///
/// - Complexity: O(n), one pass.
@usableFromInline
func vectorMap(_ function: VectorFunction, _ x: Tensor, path: KernelPath = .current) -> Tensor {
  let count = x.scalarCount
  let result = TensorStorage.make(uninitializedCount: count)
  x.withUnsafeScalars { source in
    guard let base = source.baseAddress else { return }
    let out = result.base
    switch path {
    case .reference: for i in 0..<count { out[i] = function.reference(base[i]) }
    case .avx2: ck_map_avx2(function.rawValue, base, out, count)
    case .avx512: ck_map_avx512(function.rawValue, base, out, count)
    }
  }
  return Tensor(shape: x.shape, storage: result)
}
