// Matrix multiply on raw storage, with either operand read transposed in place.
//
// Goals, in priority order: correctness for every transpose combination, no materialized
// transposes on the paths reverse mode needs (A^T B and A B^T), inner loops over
// contiguous memory that the compiler vectorizes.

/// C = op(A) op(B) for a rank-2 constant A and a rank-2 (or, as one column, rank-1)
/// constant B, op(M) = M or M^T.
///
/// A vector B gives a vector, written straight into one (no reshapes to and from a
/// one-column matrix, each a new shape array); a square matrix's product with a vector
/// shares the vector's shape array.
///
/// - Parameters:
///   - a: an m x k matrix, or k x m when `transposeA`.
///   - b: a k x n matrix, or n x k when `transposeB`; or a vector of k values (n = 1).
/// - Returns: the m x n product, or the m values of op(A) b for a vector b.
/// - Complexity: O(m n k).
@inlinable
func matrixMultiplyKernel(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool) -> Tensor {
  let m = transposeA ? a.shape[1] : a.shape[0]
  let k = transposeA ? a.shape[0] : a.shape[1]
  let n = b.rank == 1 ? 1 : (transposeB ? b.shape[0] : b.shape[1])
  // gemm writes every value of C: no zeros first, except for an empty sum (k = 0).
  let result = TensorStorage.make(uninitializedCount: m * n)
  a.withUnsafeScalars { pa in
    b.withUnsafeScalars { pb in
      guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, m > 0, n > 0, k > 0 else {
        result.base.initialize(repeating: 0, count: m * n)
        return
      }
      gemm(m: m, n: n, k: k, a: baseA, transposeA: transposeA, b: baseB, transposeB: transposeB, c: result.base)
    }
  }
  if b.rank == 1 { return Tensor(shape: b.shape[0] == m ? b.shape : [m], storage: result) }
  return Tensor(shape: TensorShape(rows: m, columns: n), storage: result)
}

/// (op(A) u, op(A) v) for a rank-2 constant A and two vectors, A read once for both: the
/// value and the tangent of a matrix-vector product at a forward-mode level.
///
/// - Parameters:
///   - a: an m x k matrix, or k x m when `transposeA`.
///   - u: a vector of k values.
///   - v: a vector of k values.
/// - Returns: the two products, vectors of m values.
/// - Complexity: O(m k), one pass over A.
@usableFromInline
func matrixVectorPairKernel(_ a: Tensor, transposeA: Bool, _ u: Tensor, _ v: Tensor) -> (Tensor, Tensor) {
  let (rows, columns) = (a.shape[0], a.shape[1])
  let m = transposeA ? columns : rows
  let first = TensorStorage.make(repeating: 0, count: m)
  let second = TensorStorage.make(repeating: 0, count: m)
  a.withUnsafeScalars { pa in
    u.withUnsafeScalars { pu in
      v.withUnsafeScalars { pv in
        guard let baseA = pa.baseAddress, let baseU = pu.baseAddress, let baseV = pv.baseAddress else { return }
        gemvPair(
          rows: rows, columns: columns, matrix: baseA, transposed: transposeA, x1: baseU, x2: baseV, y1: first.base,
          y2: second.base, maxThreads: Parallelism.maximumThreads, path: KernelPath.current)
      }
    }
  }
  return (Tensor(shape: TensorShape(vector: m), storage: first), Tensor(shape: TensorShape(vector: m), storage: second))
}
