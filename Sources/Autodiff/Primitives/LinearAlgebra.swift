// Matrix multiply with either operand transposed, and the products built on it.

/// C = op(A) op(B), op(M) = M or M^T, on rank-2 tensors.
///
/// Its JVP and VJP are again transposed products, so reverse mode never materializes a
/// transpose: for C = A B, dA = dC B^T and dB = A^T dC.
@usableFromInline
struct MatrixMultiply: BinaryPrimitive {
  @usableFromInline let transposeA: Bool
  @usableFromInline let transposeB: Bool
  @inlinable init(transposeA: Bool, transposeB: Bool) {
    self.transposeA = transposeA
    self.transposeB = transposeB
  }

  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    matrixMultiplyKernel(a, transposeA: transposeA, b, transposeB: transposeB)
  }

  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case let (da?, db?): return apply(self, da, b) + apply(self, a, db)
    case let (da?, nil): return apply(self, da, b)
    case let (nil, db?): return apply(self, a, db)
    case (nil, nil): return Tensor.zeros(value.shape)
    }
  }

  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent dC: Tensor, wrtA: Bool, wrtB: Bool) -> (Tensor?, Tensor?) {
    func product(_ x: Tensor, _ tx: Bool, _ y: Tensor, _ ty: Bool) -> Tensor {
      apply(MatrixMultiply(transposeA: tx, transposeB: ty), x, y)
    }
    switch (transposeA, transposeB) {
    case (false, false):  // C = A B
      return (wrtA ? product(dC, false, b, true) : nil, wrtB ? product(a, true, dC, false) : nil)
    case (true, false):  // C = A^T B
      return (wrtA ? product(b, false, dC, true) : nil, wrtB ? product(a, false, dC, false) : nil)
    case (false, true):  // C = A B^T
      return (wrtA ? product(dC, false, b, false) : nil, wrtB ? product(dC, true, a, false) : nil)
    case (true, true):  // C = A^T B^T
      return (wrtA ? product(b, true, dC, true) : nil, wrtB ? product(dC, true, a, true) : nil)
    }
  }
}

/// The matrix product op(a) op(b), where op transposes when asked.
///
/// ```
/// C[i, j] = sum_p op(a)[i, p] op(b)[p, j]
/// ```
/// A rank-1 `b` is a column vector and gives a rank-1 result (matrix-vector product); a
/// rank-1 `a` is a row vector and gives a rank-1 result (vector-matrix product).
/// Transposed operands are read in place, never copied.
///
/// - Parameters:
///   - a: a matrix (rank 2) or a vector (rank 1).
///   - transposeA: whether to use a^T.
///   - b: a matrix (rank 2) or a vector (rank 1).
///   - transposeB: whether to use b^T.
/// - Returns: the product.
/// - Precondition: the inner dimensions agree.
/// - Complexity: O(m n k).
@inlinable
public func matmul(_ a: Tensor, transposed transposeA: Bool = false, _ b: Tensor, transposed transposeB: Bool = false) -> Tensor {
  precondition(
    (a.rank == 1 || a.rank == 2) && (b.rank == 1 || b.rank == 2),
    "matmul: shapes \(a.shape) and \(b.shape) are not matrices or vectors")
  if b.rank == 1 {
    let column = b.reshaped(to: [b.shape[0], 1])
    let product = matmul(a, transposed: transposeA, column)
    return product.reshaped(to: [product.shape[0]])
  }
  if a.rank == 1 {
    let row = a.reshaped(to: [1, a.shape[0]])
    let product = matmul(row, transposed: false, b, transposed: transposeB)
    return product.reshaped(to: [product.shape[1]])
  }
  let inner = transposeA ? a.shape[0] : a.shape[1]
  let innerB = transposeB ? b.shape[1] : b.shape[0]
  precondition(
    inner == innerB,
    "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") are incompatible (inner dimensions \(inner) and \(innerB))")
  return apply(MatrixMultiply(transposeA: transposeA, transposeB: transposeB), a, b)
}

/// The inner product sum_i a[i] b[i] of two tensors of the same shape, as a rank-0 tensor.
///
/// - Precondition: the shapes are equal.
@inlinable
public func dot(_ a: Tensor, _ b: Tensor) -> Tensor {
  precondition(a.shape == b.shape, "dot: shapes \(a.shape) and \(b.shape) differ")
  if a.rank == 1 { return matmul(a.reshaped(to: [1, a.shape[0]]), b).reshaped(to: []) }
  return (a * b).sum()
}

extension Tensor {
  /// The Euclidean (Frobenius) norm sqrt(sum_i x[i]^2), as a rank-0 tensor.
  ///
  /// Its derivative x / ||x|| is undefined at 0.
  @inlinable
  public func norm() -> Tensor { sqrt(squared().sum()) }
}
