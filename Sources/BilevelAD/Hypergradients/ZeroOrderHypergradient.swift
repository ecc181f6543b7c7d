import Autodiff

/// How a zero-order hypergradient combines values of F along random directions.
public enum ZeroOrderEstimator: String, Sendable, CaseIterable {
  /// (1/N) Σ F(x + μ u) u / μ: unbiased for the smoothed gradient, high variance.
  case naive
  /// (1/N) Σ (F(x + μ u) − F(x)) u / μ: one more inner solve, far lower variance.
  case forwardDifference
  /// (1/N) Σ (F(x + μ u) − F(x − μ u)) u / 2μ: symmetric, bias O(μ²).
  case antithetic
}

extension BilevelProblem {
  /// A hypergradient from values of F(x) = f(x, y*(x)) alone, treating the inner solver
  /// as a black box: Gaussian smoothing with N directions u ~ N(0, I).
  ///
  /// ```
  /// F_μ(x) = E_u F(x + μ u),   ∇F_μ(x) = E_u [F(x + μ u) u] / μ
  /// ```
  /// Each F value solves the inner problem from y0 (warm-started from y*(x) where it is
  /// computed). The estimate is random; its error shrinks like √(dim x / N).
  ///
  /// - Parameters:
  ///   - x: the outer variable.
  ///   - y0: the inner starting point.
  ///   - samples: N, the number of random directions.
  ///   - smoothing: μ.
  ///   - estimator: naive, forward-difference or antithetic.
  ///   - seed: the seed of the directions.
  ///   - innerTolerance: the tolerance of each inner solve.
  /// - Returns: the estimate; `innerSolves` counts the inner problems solved (N, N + 1 or
  ///   2N), `converged` says whether all of them converged.
  ///
  /// References: Y. Nesterov and V. Spokoiny, "Random gradient-free minimization of
  /// convex functions", Found. Comput. Math. 2017; D. Sow, K. Ji and Y. Liang, "On the
  /// convergence theory for Hessian-free bilevel algorithms", NeurIPS 2022 (PZOBO).
  public func zeroOrderHypergradient(
    x: Tensor, y0: Tensor, samples: Int, smoothing: Double, estimator: ZeroOrderEstimator = .antithetic,
    seed: UInt64 = 0, innerTolerance: Double = 1e-10
  ) -> HypergradientResult<Tensor, Tensor> {
    require(samples >= 1, "zeroOrderHypergradient: samples must be at least 1, got \(samples)")
    require(smoothing > 0 && smoothing.isFinite, "zeroOrderHypergradient: smoothing must be positive, got \(smoothing)")
    var counts = OracleCounts()
    var solves = 0
    var failures: [String] = []
    func value(at point: Tensor, from start: Tensor) -> (Double, Tensor) {
      let inner = solveInner(x: point, y0: start, tolerance: innerTolerance)
      solves += 1
      counts += inner.counts
      if !inner.converged { failures.append(inner.diagnostics) }
      counts.outerValues += 1
      return (outer(point, inner.solution).scalar, inner.solution)
    }
    var generator = SeededRandomNumberGenerator(seed: seed)
    var center: (value: Double, y: Tensor)? = nil
    if estimator == .forwardDifference {
      let (v, y) = value(at: x, from: y0)
      center = (v, y)
    }
    let warm = center?.y ?? y0
    var sum = Tensor.zeros(x.shape)
    for _ in 0..<samples {
      let u = Tensor(randomNormal: x.shape, using: &generator)
      let plus = value(at: x + smoothing * u, from: warm).0
      let coefficient: Double
      switch estimator {
      case .naive: coefficient = plus / smoothing
      case .forwardDifference: coefficient = (plus - center!.value) / smoothing
      case .antithetic:
        let minus = value(at: x - smoothing * u, from: warm).0
        coefficient = (plus - minus) / (2 * smoothing)
      }
      sum = sum + coefficient * u
    }
    let estimate = sum / Double(samples)
    var diagnostics: [String] = []
    if !failures.isEmpty {
      diagnostics.append("\(failures.count) of \(solves) inner solves did not converge: \(failures[0])")
    }
    return HypergradientResult(
      gradient: estimate, converged: failures.isEmpty, residualNorm: 0, iterations: samples,
      innerGradientNorm: 0, counts: counts, diagnostics: diagnostics.joined(separator: "; "), innerSolves: solves)
  }
}
