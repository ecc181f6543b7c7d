// Matrix multiply on raw storage, with either operand read transposed in place.
//
// Goals, in priority order: correctness for every transpose combination, no materialized
// transposes on the paths reverse mode needs (A^T B and A B^T), inner loops over
// contiguous memory that the compiler vectorizes.

/// C = op(A) op(B) for rank-2 constants, op(M) = M or M^T.
///
/// - Parameters:
///   - a: an m x k matrix, or k x m when `transposeA`.
///   - b: a k x n matrix, or n x k when `transposeB`.
/// - Returns: the m x n product.
/// - Complexity: O(m n k).
@inlinable
func matrixMultiplyKernel(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool) -> Tensor {
  let m = transposeA ? a.shape[1] : a.shape[0]
  let k = transposeA ? a.shape[0] : a.shape[1]
  let n = transposeB ? b.shape[0] : b.shape[1]
  if transposeA && transposeB {
    // (A^T B^T) = (B A)^T: rare; materialize A^T and use the A B^T path.
    return matrixMultiplyKernel(
      transposeKernel(a, permutation: [1, 0]), transposeA: false, b, transposeB: true)
  }
  let result = TensorStorage(repeating: 0, count: m * n)
  let c = result.base
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, m > 0, n > 0, k > 0 else { return }
      if !transposeA && (transposeB || n == 1) {
        // C[i, j] = dot(A[i, :], B[j, :]): B^T read row by row (also A x for a vector x).
        for i in 0..<m {
          let rowA = baseA + i * k
          for j in 0..<n {
            let rowB = baseB + j * k
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            var p = 0
            while p + 4 <= k {
              s0 += rowA[p] * rowB[p]
              s1 += rowA[p + 1] * rowB[p + 1]
              s2 += rowA[p + 2] * rowB[p + 2]
              s3 += rowA[p + 3] * rowB[p + 3]
              p += 4
            }
            while p < k {
              s0 += rowA[p] * rowB[p]
              p += 1
            }
            c[i * n + j] = (s0 + s1) + (s2 + s3)
          }
        }
      } else if transposeA && n == 1 {
        // C = A^T x: one axpy per row of A.
        for p in 0..<k {
          let s = baseB[p]
          let rowA = baseA + p * m
          for i in 0..<m { c[i] += rowA[i] * s }
        }
      } else {
        // C[i, :] += op(A)[i, p] * B[p, :], blocked over p for cache reuse of B.
        let blockP = 128
        for p0 in stride(from: 0, to: k, by: blockP) {
          let p1 = Swift.min(p0 + blockP, k)
          for i in 0..<m {
            let rowC = c + i * n
            for p in p0..<p1 {
              let s = transposeA ? baseA[p * m + i] : baseA[i * k + p]
              let rowB = baseB + p * n
              for j in 0..<n { rowC[j] += s * rowB[j] }
            }
          }
        }
      }
    }
  }
  return Tensor(shape: [m, n], storage: result)
}
