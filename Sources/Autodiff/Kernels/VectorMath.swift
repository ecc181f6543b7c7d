// The maps that run exp, log, log1p, sigmoid, softplus and tanh on the CKernels'
// vectorized functions (glibc's are opaque calls, one value at a time), with glibc as the
// reference path.

import CKernels
import Foundation

/// An elementwise function with a vectorized kernel in the CKernels target (`ck_map_*`).
@usableFromInline
enum VectorFunction: Int32, CaseIterable, Sendable {
  case exp = 0
  case log = 1
  case log1p = 2
  case sigmoid = 3
  case softplus = 4
  case tanh = 5

  /// The reference: glibc's functions, composed as the primitives' scalar kernels are.
  func reference(_ x: Double) -> Double {
    switch self {
    case .exp: Foundation.exp(x)
    case .log: Foundation.log(x)
    case .log1p: Foundation.log1p(x)
    case .sigmoid: x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    case .softplus: Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    case .tanh: Foundation.tanh(x)
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
    if path == .reference {
      for i in 0..<count { out[i] = function.reference(base[i]) }
      return
    }
    let (code, p) = (function.rawValue, ElementwisePointers(a: base, b: nil, y: out))
    forEachElementwisePiece(count: count) { piece in
      let (x, y) = (p.a + piece.lowerBound, p.y + piece.lowerBound)
      if path == .avx512 { ck_map_avx512(code, x, y, piece.count) } else { ck_map_avx2(code, x, y, piece.count) }
    }
  }
  return Tensor(shape: x.shape, storage: result)
}
