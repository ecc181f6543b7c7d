// Matrix multiply with either operand transposed, and the products built on it.

/// C = op(A) op(B), op(M) = M or M^T, on rank-2 tensors.
///
/// Its JVP and VJP are again transposed products, so reverse mode never materializes a
/// transpose: for C = A B, dA = dC B^T and dB = A^T dC.
@usableFromInline
struct MatrixMultiply: BinaryPrimitive {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable static var reusesResults: Bool { true }
  @inlinable var reuseKey: Int { (transposeA ? 1 : 0) | (transposeB ? 2 : 0) }
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
    case (let da?, let db?): return apply(self, da, b) + apply(self, a, db)
    case (let da?, nil): return apply(self, da, b)
    case (nil, let db?): return apply(self, a, db)
    case (nil, nil): return Tensor.zeros(value.shape)
    }
  }

  /// The batch's rows as one product each way: op(dA_i) op(B) for all i is one [B m, k]
  /// matrix times op(B); op(A) op(dB_i) for all i is op(A) times the rows side by side (or,
  /// with op(dB) = dBᵀ, the transpose of the stacked dB_i op(A)ᵀ): two GEMMs in all,
  /// whatever B is.
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    let (m, n) = (value.shape[0], value.shape[1])
    var result: Tensor? = nil
    if let dA = tangentsA {
      let rows = transposeA ? apply(Transpose(permutation: [0, 2, 1]), dA) : dA  // [B, m, k]
      let stacked = rows.reshaped(to: [count * m, rows.shape[2]])
      result = apply(MatrixMultiply(transposeA: false, transposeB: transposeB), stacked, b).reshaped(to: [count, m, n])
    }
    if let dB = tangentsB {
      let fromB: Tensor
      if transposeB {  // dB_i is [n, k]: op(A) dB_iᵀ = (dB_i op(A)ᵀ)ᵀ
        let stacked = dB.reshaped(to: [count * n, dB.shape[2]])
        let product = apply(MatrixMultiply(transposeA: false, transposeB: !transposeA), stacked, a)  // [B n, m]
        fromB = apply(Transpose(permutation: [0, 2, 1]), product.reshaped(to: [count, n, m]))
      } else {  // dB_i is [k, n]: the rows side by side, [k, B n]
        let side = apply(Transpose(permutation: [1, 0, 2]), dB).reshaped(to: [dB.shape[1], count * n])
        let product = apply(MatrixMultiply(transposeA: transposeA, transposeB: false), a, side)  // [m, B n]
        fromB = apply(Transpose(permutation: [1, 0, 2]), product.reshaped(to: [m, count, n]))
      }
      result = result.map { $0 + fromB } ?? fromB
    }
    return result.unsafelyUnwrapped
  }

  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent dC: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
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

/// y = op(A) v for a matrix A and a vector v: one node on a tape instead of the three
/// (reshape, product, reshape) a matrix-matrix product would take. Bilevel problems are
/// full of matrix-vector products, and a tape's cost is per node.
@usableFromInline
struct MatrixVectorProduct: BinaryPrimitive {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable static var reusesResults: Bool { true }
  @inlinable var reuseKey: Int { transposeA ? 1 : 0 }
  @usableFromInline let transposeA: Bool
  @inlinable init(transposeA: Bool) { self.transposeA = transposeA }

  @inlinable func evaluate(_ a: Tensor, _ v: Tensor) -> Tensor {
    matrixMultiplyKernel(a, transposeA: transposeA, v, transposeB: false)
  }

  @inlinable func jvp(a: Tensor, b v: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let dv?): return apply(self, da, v) + apply(self, a, dv)
    case (let da?, nil): return apply(self, da, v)
    case (nil, let dv?): return apply(self, a, dv)
    case (nil, nil): return Tensor.zeros(value.shape)
    }
  }

  /// A constant matrix and a vector with a single tangent: op(A) v and op(A) dv in one
  /// pass over A (forward-over-reverse HVPs of dense models make these products in pairs).
  @inlinable func valueAndJVP(a: Tensor, b v: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> (
    value: Tensor, tangent: Tensor
  )? {
    guard tangentA == nil, let dv = tangentB, dv.shape == v.shape, a.rank == 2, v.rank == 1 else { return nil }
    let (value, tangent) = matrixVectorPairKernel(a, transposeA: transposeA, v, dv)
    return (value, tangent)
  }

  /// op(dA_i) v for all i is one matrix-vector product with the rows stacked; op(A) dv_i
  /// for all i is the matrix product dv op(A)ᵀ ([B, n] times [n, m]).
  @inlinable func batchedJVP(a: Tensor, b v: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let count = (tangentsA ?? tangentsB).unsafelyUnwrapped.shape[0]
    let m = value.shape[0]
    var result: Tensor? = nil
    if let dA = tangentsA {
      let stacked =
        transposeA
        ? apply(Transpose(permutation: [1, 0, 2]), dA).reshaped(to: [dA.shape[1], count * m])
        : dA.reshaped(to: [count * m, dA.shape[2]])
      result = apply(MatrixVectorProduct(transposeA: transposeA), stacked, v).reshaped(to: [count, m])
    }
    if let dv = tangentsB {
      let fromV = apply(MatrixMultiply(transposeA: false, transposeB: !transposeA), dv, a)
      result = result.map { $0 + fromV } ?? fromV
    }
    return result.unsafelyUnwrapped
  }

  /// For y = A v: dA = c vᵀ, dv = Aᵀ c (and the transposes for y = Aᵀ v).
  @inlinable func vjp(a: Tensor, b v: Tensor, value: Tensor, cotangent c: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    var dA: Tensor? = nil
    if wrtA {
      let (left, right) = transposeA ? (v, c) : (c, v)
      dA = matmul(left.reshaped(to: [left.scalarCount, 1]), right.reshaped(to: [1, right.scalarCount]))
    }
    return (dA, wrtB ? apply(MatrixVectorProduct(transposeA: !transposeA), a, c) : nil)
  }
}

/// The inner product of two vectors, as a rank-0 tensor: one node on a tape.
@usableFromInline
struct Dot: BinaryPrimitive {
  @inlinable static var vjpReadsValue: Bool { false }
  @inlinable init() {}

  @inlinable func evaluate(_ a: Tensor, _ b: Tensor) -> Tensor {
    let n = a.scalarCount
    return withExtendedLifetime((a, b)) {
      if n >= 2 * elementwiseParallelGrain { return Tensor(piecewiseDot(a.base, b.base, count: n)) }
      return Tensor(contiguousDot(a.base, b.base, count: n))
    }
  }

  @inlinable func jvp(a: Tensor, b: Tensor, value: Tensor, tangentA: Tensor?, tangentB: Tensor?) -> Tensor {
    switch (tangentA, tangentB) {
    case (let da?, let db?): return apply(self, da, b) + apply(self, a, db)
    case (let da?, nil): return apply(self, da, b)
    case (nil, let db?): return apply(self, a, db)
    case (nil, nil): return Tensor(0)
    }
  }

  /// da_i · b for all i is the matrix-vector product da b ([B, n] times [n]).
  @inlinable func batchedJVP(a: Tensor, b: Tensor, value: Tensor, tangentsA: Tensor?, tangentsB: Tensor?) -> Tensor {
    let fromA = tangentsA.map { apply(MatrixVectorProduct(transposeA: false), $0, b) }
    let fromB = tangentsB.map { apply(MatrixVectorProduct(transposeA: false), $0, a) }
    switch (fromA, fromB) {
    case (let da?, let db?): return da + db
    case (let da?, nil): return da
    default: return fromB.unsafelyUnwrapped
    }
  }

  @inlinable func vjp(a: Tensor, b: Tensor, value: Tensor, cotangent c: Tensor, wrtA: Bool, wrtB: Bool) -> (
    Tensor?, Tensor?
  ) {
    (wrtA ? c * b : nil, wrtB ? c * a : nil)
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
public func matmul(_ a: Tensor, transposed transposeA: Bool = false, _ b: Tensor, transposed transposeB: Bool = false)
  -> Tensor
{
  require(
    (a.rank == 1 || a.rank == 2) && (b.rank == 1 || b.rank == 2),
    "matmul: shapes \(a.shape) and \(b.shape) are not matrices or vectors")
  if a.rank == 2 && b.rank == 1 {
    let inner = transposeA ? a.shape[0] : a.shape[1]
    require(
      inner == b.shape[0],
      "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape) are incompatible (inner dimensions \(inner) and \(b.shape[0]))"
    )
    return apply(MatrixVectorProduct(transposeA: transposeA), a, b)
  }
  if a.rank == 1 && b.rank == 2 {
    // vᵀ op(B) = op(B)ᵀ v.
    let inner = transposeB ? b.shape[1] : b.shape[0]
    require(
      inner == a.shape[0],
      "matmul: shapes \(a.shape) and \(b.shape)\(transposeB ? "ᵀ" : "") are incompatible (inner dimensions \(a.shape[0]) and \(inner))"
    )
    return apply(MatrixVectorProduct(transposeA: !transposeB), b, a)
  }
  if a.rank == 1 && b.rank == 1 {
    require(a.shape == b.shape, "matmul: shapes \(a.shape) and \(b.shape) are incompatible")
    return apply(Dot(), a, b)
  }
  let inner = transposeA ? a.shape[0] : a.shape[1]
  let innerB = transposeB ? b.shape[1] : b.shape[0]
  require(
    inner == innerB,
    "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") are incompatible (inner dimensions \(inner) and \(innerB))"
  )
  return apply(MatrixMultiply(transposeA: transposeA, transposeB: transposeB), a, b)
}

/// The inner product sum_i a[i] b[i] of two tensors of the same shape, as a rank-0 tensor.
///
/// - Precondition: the shapes are equal.
@inlinable
public func dot(_ a: Tensor, _ b: Tensor) -> Tensor {
  require(a.shape == b.shape, "dot: shapes \(a.shape) and \(b.shape) differ")
  if a.rank == 1 { return apply(Dot(), a, b) }
  return (a * b).sum()
}

extension Tensor {
  /// The Euclidean (Frobenius) norm sqrt(sum_i x[i]^2), as a rank-0 tensor.
  ///
  /// Its derivative x / ||x|| is undefined at 0.
  @inlinable
  public func norm() -> Tensor { sqrt(squared().sum()) }
}
