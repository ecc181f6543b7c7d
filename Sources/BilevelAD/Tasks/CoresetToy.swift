import Autodiff

/// BOME's coreset toy: the point of the convex hull of four points closest to a target,
/// with the hull weights parameterized by a softmax.
///
/// ```
/// c₁ = (1, 3), c₂ = (3, 1), c₃ = (−2, 2), c₄ = (−3, −2),   y₀ = (3, −2)
/// g(w, θ) = ‖Σᵢ softmax(w)ᵢ cᵢ − θ‖²        θ*(w) = Σᵢ softmax(w)ᵢ cᵢ
/// f(w, θ) = 0.1 ‖θ − y₀‖²
/// ```
/// The solution is the projection of y₀ onto the hull, θ* = 0.8 c₂ + 0.2 c₄ = (1.8, 0.4),
/// with f* = 0.72. The optimal weights (0, 0.8, 0, 0.2) lie on the simplex's boundary, so
/// softmax logits only approach them (w₁, w₃ → −∞): check θ and f, not w.
///
/// References: B. Liu, M. Ye, S. Wright, P. Stone and Q. Liu, "BOME! Bilevel optimization
/// made easy", NeurIPS 2022 (the toy coreset problem of its official code, with
/// 5000 iterations, steps 0.05, T = 10 and starts θ₀ ∈ {(0, 3), (−3, 1), (3.5, −1)}).
public struct CoresetToy {
  /// The four points, as the rows of a 4 × 2 matrix.
  public let points: Tensor = [[1, 3], [3, 1], [-2, 2], [-3, -2]]
  /// The target y₀.
  public let target: Tensor = [3, -2]
  /// The closest point of the hull to the target.
  public let solution: Tensor = [1.8, 0.4]
  /// f at the solution.
  public let optimalValue = 0.72
  /// The problem in (w, θ).
  public let problem: BilevelProblem

  /// The toy.
  public init() {
    let points = self.points
    let target = self.target
    problem = BilevelProblem(
      outer: { _, theta in 0.1 * (theta - target).squared().sum() },
      inner: { w, theta in
        (matmul(w.softmax(alongAxis: 0), points) - theta).squared().sum()
      })
  }

  /// The same toy with the weights themselves as the outer variable, constrained to the
  /// probability simplex (for projected and Frank-Wolfe methods):
  ///
  /// ```
  /// g(p, θ) = ‖Σᵢ pᵢ cᵢ − θ‖²,   f(p, θ) = 0.1 ‖θ − y₀‖²,   p ∈ Δ₄
  /// ```
  /// Its solution p* = (0, 0.8, 0, 0.2) is attainable, with θ* = (1.8, 0.4).
  public var simplexProblem: BilevelProblem {
    let points = self.points
    let target = self.target
    return BilevelProblem(
      outer: { _, theta in 0.1 * (theta - target).squared().sum() },
      inner: { p, theta in (matmul(p, points) - theta).squared().sum() })
  }

  /// L, the Lipschitz constant of the simplex problem's hypergradient: F(p) = 0.1 ‖Cᵀp − y₀‖²
  /// has Hessian 0.2 C Cᵀ, so L = 0.2 λ_max(Cᵀ C) (a 2 × 2 eigenvalue, in closed form).
  public var simplexSmoothness: Double {
    let c = points.scalars
    var (a, b, d) = (0.0, 0.0, 0.0)
    for i in 0..<4 {
      a += c[2 * i] * c[2 * i]
      b += c[2 * i] * c[2 * i + 1]
      d += c[2 * i + 1] * c[2 * i + 1]
    }
    return 0.2 * ((a + d) / 2 + (((a - d) / 2) * ((a - d) / 2) + b * b).squareRoot())
  }

  /// The optimal weights on the simplex.
  public let optimalWeights: Tensor = [0, 0.8, 0, 0.2]

  /// An evaluator for `simplexProblem`: F(p), the norm of the projected-gradient
  /// stationarity ‖p − Proj_Δ(p − ∇F(p))‖ (zero exactly at the constrained optimum), and
  /// distances of θ*(p) and of p to the solution.
  public func simplexEvaluator() -> (Tensor, Tensor) -> Evaluation {
    let points = self.points
    let target = self.target
    let solution = self.solution
    let optimalWeights = self.optimalWeights
    let objective: (Tensor) -> Tensor = { p in 0.1 * (matmul(p, points) - target).squared().sum() }
    return { p, theta in
      let (value, g) = valueWithGradient(at: p, of: objective)
      let stationarity = (p - ConstraintSet.simplex.project(p - g)).norm().scalar
      return Evaluation(
        outerValue: value.scalar, hypergradientNorm: stationarity,
        metrics: [
          "hull point distance": (matmul(p, points) - solution).norm().scalar,
          "weight distance": (p - optimalWeights).norm().scalar,
          "distance to solution": (theta - solution).norm().scalar,
        ])
    }
  }

  /// The weighted point Σᵢ softmax(w)ᵢ cᵢ.
  public func hullPoint(logits w: Tensor) -> Tensor { matmul(w.softmax(alongAxis: 0), points) }

  /// An evaluator: F(w) exactly (θ*(w) is the hull point), ‖∇F(w)‖, and the distances of
  /// the algorithm's θ and of the hull point θ*(w) to the true solution.
  public func evaluator() -> (Tensor, Tensor) -> Evaluation {
    let points = self.points
    let target = self.target
    let solution = self.solution
    let objective: (Tensor) -> Tensor = { w in 0.1 * (matmul(w.softmax(alongAxis: 0), points) - target).squared().sum()
    }
    return { w, theta in
      let (value, g) = valueWithGradient(at: w, of: objective)
      return Evaluation(
        outerValue: value.scalar, hypergradientNorm: g.norm().scalar,
        metrics: [
          "distance to solution": (theta - solution).norm().scalar,
          "hull point distance": (matmul(w.softmax(alongAxis: 0), points) - solution).norm().scalar,
        ])
    }
  }
}
