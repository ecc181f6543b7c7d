import Autodiff
import Foundation

/// How an unrolled hypergradient differentiates through the inner iterations.
public enum UnrollMode: Sendable, Equatable {
  /// Reverse mode through the whole loop (backward gradient unrolling, ITD): one
  /// backward sweep; memory grows linearly with the number of steps K.
  case reverse
  /// Forward mode (forward gradient unrolling): the Jacobian dy_k/dx is carried along the
  /// loop, Z_k = A_k Z_{k−1} + B_k, all its columns through each step in one batched JVP
  /// of the inner gradient (`jvp(at:directions:of:)`). Memory independent of K; cost
  /// proportional to dim x, in matrix-matrix products.
  case forward
  /// Reverse mode through the last k steps only (K-RMD, Shaban et al. AISTATS 2019); the
  /// first K − k steps run without derivatives.
  case truncated(lastSteps: Int)
  /// Reverse mode that keeps the optimizer state only every k steps and recomputes each
  /// segment during the backward pass: memory K/k + k states instead of K, for about one
  /// more forward pass (Griewank, "Achieving logarithmic growth of temporal and spatial
  /// complexity in reverse automatic differentiation", 1992).
  case checkpointed(every: Int)
}

extension BilevelProblem {
  /// The hypergradient of x ↦ f(x, y_K(x)), where y_K(x) comes from K steps of an inner
  /// optimizer started at y0.
  ///
  /// ```
  /// y_{k+1} = Φ(y_k, x)  (one optimizer step on g(x, ·)),   F_K(x) = f(x, y_K(x))
  /// ∇F_K(x) = ∇_x f + Σ_k B_k^T A_{k+1}^T ⋯ A_{K−1}^T ∇_y f,  A_k = ∂Φ/∂y, B_k = ∂Φ/∂x
  /// ```
  /// This is the exact gradient of the unrolled objective, which converges to ∇F(x) as K
  /// grows when the inner iteration contracts (for gradient descent with a step below
  /// 2 / L on a μ-strongly convex g, the error shrinks like (1 − η μ)^K).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point (held constant).
  ///   - steps: K, the number of inner steps.
  ///   - innerLearningRate: η.
  ///   - mode: how to differentiate through the loop.
  ///   - optimizer: the inner update (gradient descent by default).
  ///   - innerTolerance: the largest ‖∇_y g(x, y_K)‖ for which `converged` is true.
  ///   - forwardMemoryLimit: `.forward` only: the most bytes of dy/dx columns (with their
  ///     optimizer-state tangents) kept at once; beyond it the columns go through the loop
  ///     in blocks, the loop re-run per block. 64 MiB by default.
  /// - Returns: the estimate; `residualNorm` and `innerGradientNorm` are ‖∇_y g(x, y_K)‖,
  ///   `iterations` is K. Counts: K ∇_y g in the forward loop; reverse sweeps add K
  ///   Hessian-vector and K cross products over the steps they differentiate; forward
  ///   mode pushes the n_x coordinates through each step's ∇_y g in one batched pass (K
  ///   ∇_y g, and n_x K Hessian-vector and cross products, counted per coordinate);
  ///   checkpointing recomputes the K steps once more; one more ∇_y g
  ///   measures the final inner gradient.
  ///
  /// References: D. Maclaurin, D. Duvenaud and R. Adams, "Gradient-based hyperparameter
  /// optimization through reversible learning", ICML 2015; L. Franceschi et al., "Forward
  /// and reverse gradient-based hyperparameter optimization", ICML 2017; A. Shaban et al.,
  /// "Truncated back-propagation for bilevel optimization", AISTATS 2019.
  public func unrolledHypergradient(
    x: Tensor, y0: Tensor, steps: Int, innerLearningRate: Double, mode: UnrollMode = .reverse,
    optimizer: InnerOptimizer = .gradientDescent, innerTolerance: Double = 1e-6,
    forwardMemoryLimit: Int = 64 << 20
  ) -> HypergradientResult<Tensor, Tensor> {
    require(steps >= 0, "unrolledHypergradient: steps must be non-negative, got \(steps)")
    require(
      innerLearningRate > 0 && innerLearningRate.isFinite,
      "unrolledHypergradient: innerLearningRate must be positive, got \(innerLearningRate)")
    let x = withoutDerivative(at: x)
    let y0 = withoutDerivative(at: y0)
    var counts = OracleCounts()
    let inner = self.inner
    let outer = self.outer

    func run(_ x: Tensor, _ state: [Tensor], from first: Int, through last: Int) -> [Tensor] {
      var state = state
      if first <= last {
        for k in first...last {
          state = optimizer.step(state, iteration: k, learningRate: innerLearningRate) { y in
            gradient(at: y) { y in inner(x, y) }
          }
        }
      }
      return state
    }

    var hypergradient: Tensor
    var finalY = y0
    switch mode {
    case .reverse:
      hypergradient = gradient(at: x) { x in
        let state = run(x, optimizer.initialState(y0), from: 1, through: steps)
        finalY = withoutDerivative(at: state[0])
        return outer(x, state[0])
      }
      counts.innerGradientY += steps
      counts.hessianVectorProducts += steps
      counts.crossProducts += steps
    case .forward:
      // Z_k = dy_k/dx, one row per coordinate of x: the rows go through each step together,
      // as one batched JVP of the inner gradient map (x, y) ↦ ∇_y g(x, y) along the
      // directions (e_j, Z_k[j]), which gives ∇²_yx g e_j + ∇²_yy g Z_k[j] for every j in
      // one forward-over-reverse pass (the Hessian-times-Z products are one matrix-matrix
      // product where g's Hessian is a matrix product). Memory: one optimizer state per
      // column, independent of K; columns go in blocks of at most `forwardMemoryLimit`
      // bytes of state, the loop re-run per block, so that a large x × y does not hold
      // n_x n_y values at once.
      let n = x.scalarCount
      let m = y0.scalarCount
      let stateCount = optimizer.initialState(y0).count
      let block = max(1, min(n, forwardMemoryLimit / max(1, m * stateCount * MemoryLayout<Double>.stride)))
      var columnsDotOuterY = [Double](repeating: 0, count: n)
      var outerGradients: (x: Tensor, y: Tensor)?  // at y_K, the same for every block
      var blockStart = 0
      var blocks = 0
      repeat {
        let columns = blockStart..<min(n, blockStart + block)
        var basis = [Double](repeating: 0, count: columns.count * n)
        for (row, j) in columns.enumerated() { basis[row * n + j] = 1 }
        let xDirections = Tensor(shape: [columns.count] + x.shape, scalars: basis)
        var state = optimizer.initialState(y0)
        var tangents = state.map { Tensor.zeros([columns.count] + $0.shape) }
        if steps >= 1 {
          for k in 1...steps {
            let (g, dg) = jvp(at: [x, state[0]], directions: [xDirections, tangents[0]]) { point in
              gradient(at: point[1]) { y in inner(point[0], y) }
            }
            tangents = optimizer.tangentStep(
              state, tangent: tangents, gradient: g, gradientTangent: dg, iteration: k,
              learningRate: innerLearningRate)
            state = optimizer.step(state, iteration: k, learningRate: innerLearningRate) { _ in g }
          }
        }
        finalY = state[0]
        if outerGradients == nil {
          let (outerX, outerY) = gradient(at: x, finalY) { x, y in outer(x, y) }
          outerGradients = (outerX, outerY)
        }
        let products = matmul(tangents[0].reshaped(to: [columns.count, m]), outerGradients!.y.reshaped(to: [m]))
        for (row, j) in columns.enumerated() { columnsDotOuterY[j] = products.scalars[row] }
        blockStart = columns.upperBound
        blocks += 1
      } while blockStart < n
      hypergradient = outerGradients!.x + Tensor(shape: x.shape, scalars: columnsDotOuterY)
      counts.innerGradientY += steps * blocks
      counts.hessianVectorProducts += n * steps
      counts.crossProducts += n * steps
    case .truncated(let lastSteps):
      require(lastSteps >= 0, "unrolledHypergradient: truncated(lastSteps:) must be non-negative, got \(lastSteps)")
      let kept = min(lastSteps, steps)
      let start = run(x, optimizer.initialState(y0), from: 1, through: steps - kept)
      hypergradient = gradient(at: x) { x in
        let state = run(x, start, from: steps - kept + 1, through: steps)
        finalY = withoutDerivative(at: state[0])
        return outer(x, state[0])
      }
      counts.innerGradientY += steps
      counts.hessianVectorProducts += kept
      counts.crossProducts += kept
    case .checkpointed(let every):
      require(every >= 1, "unrolledHypergradient: checkpointed(every:) must be at least 1, got \(every)")
      // Each segment of `every` steps is one `checkpointed` block: the tape keeps the
      // segments' ends (K / every states) and, during the backward pass, one segment's
      // recomputed tape (every steps).
      hypergradient = gradient(at: x) { x in
        var state = optimizer.initialState(y0)
        var k = 0
        while k < steps {
          let (first, last) = (k + 1, min(k + every, steps))
          let segment = checkpointed { (input: [Tensor]) in
            run(input[0], Array(input.dropFirst()), from: first, through: last)
          }
          state = segment([x] + state)
          k = last
        }
        finalY = withoutDerivative(at: state[0])
        return outer(x, state[0])
      }
      counts.innerGradientY += 2 * steps
      counts.hessianVectorProducts += steps
      counts.crossProducts += steps
    }
    counts.outerGradientX += 1
    counts.outerGradientY += 1
    let oracles = makeOracles()
    let innerGradientNorm = euclideanNorm(oracles.innerGradientY(x: x, y: finalY))
    counts += oracles.counts
    var diagnostics: [String] = []
    if let message = innerGradientDiagnostic(innerGradientNorm, tolerance: innerTolerance) {
      diagnostics.append(
        "after \(steps) inner steps, "
          + message.replacingOccurrences(of: "y is not an inner solution: ", with: "y_K is not an inner solution: "))
    }
    let finite = hypergradient.scalars.allSatisfy(\.isFinite)
    if !finite { diagnostics.append("the hypergradient has non-finite entries (the inner step may be too large)") }
    return HypergradientResult(
      gradient: hypergradient, converged: innerGradientNorm <= innerTolerance && finite,
      residualNorm: innerGradientNorm, iterations: steps, innerGradientNorm: innerGradientNorm, counts: counts,
      diagnostics: diagnostics.joined(separator: "; "), innerIterate: finalY)
  }
}
