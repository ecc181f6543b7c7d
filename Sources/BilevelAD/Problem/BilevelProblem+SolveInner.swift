import Autodiff

/// How `solveInner` minimizes g(x, ·).
public enum InnerSolverMethod: String, Sendable, CaseIterable {
  /// Gradient descent with Barzilai-Borwein steps safeguarded by an Armijo backtracking
  /// line search. First-order oracles only.
  case gradientDescent
  /// Truncated Newton: each step solves ∇²_yy g d = −∇_y g by conjugate gradient on
  /// Hessian-vector products (to relative accuracy min(0.5, √‖∇g‖)), then backtracks.
  /// Converges superlinearly on smooth strongly convex problems.
  case newtonConjugateGradient
}

/// The outcome of minimizing the inner objective over y.
public struct InnerSolution<Y: TensorStructure> {
  /// The last iterate, y ≈ y*(x), of y0's structure.
  public var solution: Y
  /// ‖∇_y g(x, solution)‖.
  public var gradientNorm: Double
  /// Outer iterations of the method (Newton or gradient steps).
  public var iterations: Int
  /// Whether `gradientNorm` reached the tolerance.
  public var converged: Bool
  /// The oracle calls used.
  public var counts: OracleCounts
  /// Empty when converged; otherwise why not.
  public var diagnostics: String
}

extension BilevelProblem {
  /// Minimizes g(x, ·) from y0 until ‖∇_y g‖ ≤ tolerance.
  ///
  /// - Parameters:
  ///   - x: the outer variable, held fixed.
  ///   - y0: the starting point.
  ///   - tolerance: the target gradient norm.
  ///   - maxIterations: the most Newton or gradient steps to take.
  ///   - method: truncated Newton (default) or gradient descent.
  /// - Returns: the last iterate, its gradient norm, and whether it converged.
  ///
  /// References: J. Nocedal and S. Wright, "Numerical Optimization", 2nd ed., 2006
  /// (Algorithm 7.1, line-search Newton-CG); J. Barzilai and J. Borwein, "Two-point step
  /// size gradient methods", IMA J. Numer. Anal. 1988.
  public func solveInner(
    x: Tensor, y0: Tensor, tolerance: Double = 1e-10, maxIterations: Int = 500,
    method: InnerSolverMethod = .newtonConjugateGradient
  ) -> InnerSolution<Tensor> {
    require(tolerance >= 0, "solveInner: tolerance must be non-negative, got \(tolerance)")
    require(maxIterations >= 0, "solveInner: maxIterations must be non-negative, got \(maxIterations)")
    let oracles = makeOracles()
    var y = y0
    var (value, grad) = oracles.innerValueAndGradientY(x: x, y: y)
    var gradientNorm = euclideanNorm(grad)
    var iterations = 0
    var diagnostics: [String] = []
    var previous: (y: Tensor, gradient: Tensor)? = nil
    while gradientNorm > tolerance && iterations < maxIterations && gradientNorm.isFinite {
      iterations += 1
      var direction: Tensor
      switch method {
      case .newtonConjugateGradient:
        direction = newtonDirection(oracles: oracles, x: x, y: y, gradient: grad, gradientNorm: gradientNorm)
      case .gradientDescent:
        var step = 1.0
        if let previous {
          let s = y - previous.y
          let change = grad - previous.gradient
          let curvature = innerProduct(s, change)
          if curvature > 0 { step = innerProduct(s, s) / curvature }
        } else {
          step = min(1, 1 / max(gradientNorm, 1e-300))
        }
        direction = -step * grad
      }
      var slope = innerProduct(grad, direction)
      if !(slope < 0) {
        direction = -grad
        slope = -gradientNorm * gradientNorm
      }
      // Armijo backtracking; the small absolute slack lets a full step through when the
      // decrease is below rounding of g (near the solution, Newton's step is right).
      var t = 1.0
      var accepted = false
      let slack = 1e-14 * max(1, abs(value))
      var candidate = y
      var candidateValue = value
      for _ in 0..<60 {
        candidate = y + t * direction
        candidateValue = oracles.innerValue(x: x, y: candidate)
        if candidateValue <= value + 1e-4 * t * slope + slack {
          accepted = true
          break
        }
        t *= 0.5
      }
      if !accepted {
        diagnostics.append(
          value.isFinite && !candidateValue.isNaN
            ? "the line search found no decrease of g at iteration \(iterations)"
            : "the inner objective g became \(value.isNaN || candidateValue.isNaN ? "NaN" : "infinite") at iteration \(iterations)"
        )
        break
      }
      previous = (y, grad)
      y = candidate
      (value, grad) = oracles.innerValueAndGradientY(x: x, y: y)
      gradientNorm = euclideanNorm(grad)
    }
    let converged = gradientNorm <= tolerance
    if !value.isFinite && diagnostics.isEmpty {
      diagnostics.append("the inner objective g is \(value.isNaN ? "NaN" : "infinite") at iteration \(iterations)")
    } else if !gradientNorm.isFinite {
      diagnostics.append("the inner gradient became non-finite at iteration \(iterations)")
    } else if !converged && diagnostics.isEmpty {
      diagnostics.append(
        "stopped after \(iterations) iterations with ‖∇_y g‖ = \(gradientNorm) above the tolerance \(tolerance)")
    }
    return InnerSolution(
      solution: y, gradientNorm: gradientNorm, iterations: iterations, converged: converged,
      counts: oracles.counts, diagnostics: diagnostics.joined(separator: "; "))
  }

  /// An approximate Newton direction: CG on ∇²_yy g d = −∇_y g, stopped early at
  /// non-positive curvature (returning the last descent iterate, or −∇_y g).
  private func newtonDirection(
    oracles: Oracles, x: Tensor, y: Tensor, gradient: Tensor, gradientNorm: Double
  ) -> Tensor {
    let forcing = min(0.5, gradientNorm.squareRoot()) * gradientNorm
    var d = Tensor.zeros(gradient.shape)
    var r = -gradient
    var p = r
    var rr = gradientNorm * gradientNorm
    let budget = min(max(2 * y.scalarCount, 10), 500)
    for _ in 0..<budget {
      let hp = oracles.hessianVectorProduct(x: x, y: y, v: p)
      let curvature = innerProduct(p, hp)
      if !(curvature > 1e-14 * innerProduct(p, p)) { break }
      let alpha = rr / curvature
      d = d + alpha * p
      r = r - alpha * hp
      let rrNext = innerProduct(r, r)
      if rrNext.squareRoot() <= forcing { break }
      p = r + (rrNext / rr) * p
      rr = rrNext
    }
    return euclideanNorm(d) > 0 ? d : -gradient
  }
}
