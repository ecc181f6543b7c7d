import Autodiff
import Dispatch

/// The first- and second-order oracles of a bilevel problem, each call counted.
///
/// Built by the engine from the problem's closures: gradients by reverse mode,
/// Hessian-vector and cross products by composing modes (`HVPMode`). `counts` records
/// every call; estimators and algorithms report the counts they used.
public final class Oracles {
  /// The problem whose closures the oracles differentiate.
  public let problem: BilevelProblem
  /// The calls made so far.
  public private(set) var counts = OracleCounts()

  /// When the run must end (`DispatchTime` uptime in nanoseconds), set by the driver from
  /// `StoppingRule.wallClockLimit`; nil for no limit. The algorithms' inner-step loops
  /// (their `innerIterations`, linear-system and shadow steps) stop early once it has passed,
  /// so one outer step cannot overrun the limit by its inner work. Loops inside unrolled
  /// hypergradients (ITD-BIO, K-RMD) and Neumann series are bounded by their own caps.
  public var deadline: UInt64?

  /// Oracles of `problem`, with zero counts.
  public init(problem: BilevelProblem) { self.problem = problem }

  /// Whether `deadline` has passed: inner loops check it before each inner step.
  public var isPastDeadline: Bool {
    guard let deadline else { return false }
    return DispatchTime.now().uptimeNanoseconds >= deadline
  }

  /// f, on a mini-batch of outer samples when `batch` is given.
  func outerFunction(_ batch: [Int]?) -> (Tensor, Tensor) -> Tensor {
    guard let batch else { return problem.outer }
    guard let finiteSum = problem.finiteSum else {
      fatalError("Oracles: a mini-batch was given but the problem has no finite-sum structure")
    }
    counts.outerSamples += batch.count
    return { x, y in finiteSum.outerBatch(x, y, batch) }
  }

  /// g, on a mini-batch of inner samples when `batch` is given.
  func innerFunction(_ batch: [Int]?) -> (Tensor, Tensor) -> Tensor {
    guard let batch else { return problem.inner }
    guard let finiteSum = problem.finiteSum else {
      fatalError("Oracles: a mini-batch was given but the problem has no finite-sum structure")
    }
    counts.innerSamples += batch.count
    return { x, y in finiteSum.innerBatch(x, y, batch) }
  }

  /// Sets every count back to zero.
  public func resetCounts() { counts = OracleCounts() }

  /// Adds calls made elsewhere (for example by an estimator that counted on its own
  /// oracles) to these counts.
  public func record(_ calls: OracleCounts) { counts += calls }

  // MARK: Values

  /// f(x, y).
  public func outerValue(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Double {
    counts.outerValues += 1
    let f = outerFunction(batch)
    return f(x, y).scalar
  }

  /// g(x, y).
  public func innerValue(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Double {
    let g = innerFunction(batch)
    counts.innerValues += 1
    return g(x, y).scalar
  }

  // MARK: Gradients

  /// (∇_x f, ∇_y f) at (x, y), in one reverse pass (counted as one of each).
  public func outerGradients(x: Tensor, y: Tensor, batch: [Int]? = nil) -> (x: Tensor, y: Tensor) {
    counts.outerGradientX += 1
    counts.outerGradientY += 1
    let f = outerFunction(batch)
    let (gx, gy) = gradient(at: x, y, of: f)
    return (gx, gy)
  }

  /// ∇_x f(x, y).
  public func outerGradientX(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    counts.outerGradientX += 1
    let f = outerFunction(batch)
    return gradient(at: x) { x in f(x, y) }
  }

  /// ∇_y f(x, y).
  public func outerGradientY(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    counts.outerGradientY += 1
    let f = outerFunction(batch)
    return gradient(at: y) { y in f(x, y) }
  }

  /// ∇_y g(x, y).
  public func innerGradientY(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    let g = innerFunction(batch)
    counts.innerGradientY += 1
    return gradient(at: y) { y in g(x, y) }
  }

  /// g(x, y) and ∇_y g(x, y), in one reverse pass.
  public func innerValueAndGradientY(x: Tensor, y: Tensor, batch: [Int]? = nil) -> (value: Double, gradient: Tensor) {
    let g = innerFunction(batch)
    counts.innerValues += 1
    counts.innerGradientY += 1
    let (value, gradient) = valueWithGradient(at: y) { y in g(x, y) }
    return (value.scalar, gradient)
  }

  /// ∇_x g(x, y).
  public func innerGradientX(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    let g = innerFunction(batch)
    counts.innerGradientX += 1
    return gradient(at: x) { x in g(x, y) }
  }

  /// (∇_x g, ∇_y g) at (x, y), in one reverse pass (counted as one of each).
  public func innerGradients(x: Tensor, y: Tensor, batch: [Int]? = nil) -> (x: Tensor, y: Tensor) {
    let g = innerFunction(batch)
    counts.innerGradientX += 1
    counts.innerGradientY += 1
    let (gx, gy) = gradient(at: x, y, of: g)
    return (gx, gy)
  }

  // MARK: Second order

  /// The Hessian-vector product ∇²_yy g(x, y) v.
  ///
  /// - Parameters:
  ///   - v: a direction of y's shape.
  ///   - mode: how forward and reverse mode are composed.
  /// - Returns: ∇²_yy g(x, y) v, of y's shape.
  public func hessianVectorProduct(
    x: Tensor, y: Tensor, v: Tensor, mode: HVPMode = .forwardOverReverse, batch: [Int]? = nil
  ) -> Tensor {
    let g = innerFunction(batch)
    counts.hessianVectorProducts += 1
    return hvp(at: y, direction: v, mode: mode) { y in g(x, y) }
  }

  /// The cross product ∇²_xy g(x, y) v = ∇_x <∇_y g(x, y), v>, a vector of x's shape.
  ///
  /// - Parameters:
  ///   - v: a direction of y's shape.
  ///   - mode: how forward and reverse mode are composed.
  /// - Returns: ∇²_xy g(x, y) v, of x's shape.
  public func crossProduct(x: Tensor, y: Tensor, v: Tensor, mode: HVPMode = .forwardOverReverse, batch: [Int]? = nil)
    -> Tensor
  {
    let g = innerFunction(batch)
    counts.crossProducts += 1
    switch mode {
    case .forwardOverReverse:
      // d/dt ∇_x g(x, y + t v)
      return jvp(at: y, direction: v) { y in gradient(at: x) { x in g(x, y) } }.tangent
    case .reverseOverReverse:
      return gradient(at: x) { x in dot(gradient(at: y) { y in g(x, y) }, v) }
    case .reverseOverForward:
      return gradient(at: x) { x in jvp(at: y, direction: v) { y in g(x, y) }.tangent }
    }
  }

  /// ∇_y g(x, y) and the linear map v ↦ ∇²_yy g(x, y) v, with the computation of ∇_y g
  /// recorded once on a tape: each product is then one backward sweep over that record
  /// (reverse-over-reverse without repeating the forward passes), the cheapest way to
  /// apply the same Hessian many times, as a linear solver does.
  ///
  /// Counted as one ∇_y g, and one Hessian-vector product per application.
  /// - Returns: the gradient and the map; the map keeps the record alive.
  public func recordedHessian(x: Tensor, y: Tensor, batch: [Int]? = nil) -> (
    gradient: Tensor, apply: (Tensor) -> Tensor
  ) {
    let g = innerFunction(batch)
    counts.innerGradientY += 1
    let (gradientY, pullback) = valueWithPullback(at: y) { y in gradient(at: y) { y in g(x, y) } }
    return (
      gradientY,
      { v in
        self.counts.hessianVectorProducts += 1
        return pullback(v)
      }
    )
  }

  /// ∇_y g, ∇²_yy g v and ∇²_xy g v on one mini-batch, from one forward and one backward
  /// pass over ∇_y g (reverse-over-reverse): the SOBA-family joint oracle. Counted as one
  /// ∇_y g, one Hessian-vector product and one cross product.
  ///
  /// - Returns: (∇_y g, ∇²_yy g v, ∇²_xy g v), of y's, y's and x's shapes.
  public func innerGradientWithProducts(
    x: Tensor, y: Tensor, v: Tensor, batch: [Int]? = nil
  ) -> (gradient: Tensor, hessianVectorProduct: Tensor, crossProduct: Tensor) {
    let g = innerFunction(batch)
    counts.innerGradientY += 1
    counts.hessianVectorProducts += 1
    counts.crossProducts += 1
    let (gradientY, pullback) = valueWithPullback(at: x, y) { x, y in gradient(at: y) { y in g(x, y) } }
    let (cross, hessianVector) = pullback(v)
    return (gradientY, hessianVector, cross)
  }

  /// The dense Hessian ∇²_yy g(x, y), of shape [n, n] with n = y.scalarCount.
  ///
  /// Counted as n Hessian-vector products (`hessian` pushes the n columns through one
  /// forward-over-reverse pass per batch of 128).
  public func innerHessian(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    let n = y.scalarCount
    let g = innerFunction(batch)
    counts.hessianVectorProducts += n
    return hessian(at: y) { y in g(x, y) }.reshaped(to: [n, n])
  }

  /// The dense cross derivative ∇²_xy g(x, y), of shape [m, n] with m = x.scalarCount and
  /// n = y.scalarCount: entry (i, j) is ∂²g / ∂x_i ∂y_j.
  ///
  /// Column j is the cross product ∇²_xy g e_j; all n go through one batched JVP of ∇_x g
  /// along the unit directions of y (`jvp(at:directions:of:)`). Counted as n cross
  /// products.
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y: the inner variable.
  ///   - batch: the sample indices of a stochastic inner objective, or nil for all.
  /// - Returns: ∇²_xy g(x, y) as an [m, n] matrix.
  public func innerCrossJacobian(x: Tensor, y: Tensor, batch: [Int]? = nil) -> Tensor {
    let (m, n) = (x.scalarCount, y.scalarCount)
    let g = innerFunction(batch)
    counts.crossProducts += n
    if n == 0 || m == 0 { return Tensor.zeros([m, n]) }
    let directions = Tensor.identity(n).reshaped(to: [n] + y.shape)
    let (_, rows) = jvp(at: y, directions: directions) { y in gradient(at: x) { x in g(x, y) } }
    return rows.reshaped(to: [n, m]).transposed()
  }

  // MARK: Finite differences (first-order estimates of second-order products)

  /// The central finite-difference estimate of ∇²_yy g(x, y) v used by HJFBiO:
  ///
  /// ```
  /// (∇_y g(x, y + δ v) - ∇_y g(x, y - δ v)) / (2 δ)
  /// ```
  /// Costs two ∇_y g evaluations (counted as such); its error is O(δ²).
  ///
  /// References: F. Huang, "Optimal Hessian/Jacobian-free nonconvex-PL bilevel
  /// optimization", ICML 2024.
  public func finiteDifferenceHessianVectorProduct(x: Tensor, y: Tensor, v: Tensor, step: Double, batch: [Int]? = nil)
    -> Tensor
  {
    let plus = innerGradientY(x: x, y: y + step * v, batch: batch)
    let minus = innerGradientY(x: x, y: y - step * v, batch: batch)
    return (plus - minus) / (2 * step)
  }

  /// The central finite-difference estimate of ∇²_xy g(x, y) v used by HJFBiO:
  ///
  /// ```
  /// (∇_x g(x, y + δ v) - ∇_x g(x, y - δ v)) / (2 δ)
  /// ```
  /// Costs two ∇_x g evaluations (counted as such); its error is O(δ²).
  public func finiteDifferenceCrossProduct(x: Tensor, y: Tensor, v: Tensor, step: Double, batch: [Int]? = nil) -> Tensor
  {
    let plus = innerGradientX(x: x, y: y + step * v, batch: batch)
    let minus = innerGradientX(x: x, y: y - step * v, batch: batch)
    return (plus - minus) / (2 * step)
  }
}
