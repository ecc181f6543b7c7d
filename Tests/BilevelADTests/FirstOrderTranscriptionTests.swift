import Autodiff
import BilevelAD
import Testing

/// Hand transcriptions of the update rules of F2SA (`seeds/002_7c17d9d962bd5573.txt`, box
/// "Algorithm F²SA", lines 136–147), BOME (`seeds/004_c87299da807959b3.txt`, steps 1 and 2
/// and Theorem 2) and AID-BIO and ITD-BIO (`seeds/000_c49b68d03854275a.txt`, "Basic
/// IF-Based Framework", CG approach, "Basic GU-Based Framework" and BGU) on a 2 × 2
/// quadratic whose every derivative is plain arithmetic:
/// ```
/// g(x, y) = ½ yᵀ A y + xᵀ B y + bᵀ y   ∇_y g = A y + Bᵀ x + b,  ∇_x g = B y,
///                                      ∇²_yy g v = A v,  ∇²_xy g v = B v
/// f(x, y) = ½ ‖y − c‖² + ½ ‖x − e‖²    ∇_x f = x − e,  ∇_y f = y − c
/// ```
/// Each test runs the package's algorithm with full batches and compares x and y (and z
/// where public) after every one of three steps with the transcription, to 1e-12.
@Suite("Seed transcriptions: F2SA, BOME, AID-BIO, ITD-BIO")
struct FirstOrderTranscriptionTests {
  typealias Vector = [Double]
  typealias Matrix = [[Double]]

  static let a: Matrix = [[2, 0.5], [0.5, 1]]
  static let b: Matrix = [[1, -0.5], [0.3, 0.8]]
  static let linear: Vector = [0.1, -0.2]
  static let c: Vector = [1, -1]
  static let e: Vector = [0.5, 0.25]
  static let x0: Vector = [1, -2]
  static let y0: Vector = [0.5, 0.3]
  static let tolerance = 1e-12

  static func times(_ m: Matrix, _ v: Vector) -> Vector { m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }
  static func transposed(_ m: Matrix) -> Matrix { (0..<2).map { j in (0..<2).map { i in m[i][j] } } }
  static func plus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 + $1 } }
  static func minus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 - $1 } }
  static func scaled(_ s: Double, _ v: Vector) -> Vector { v.map { s * $0 } }
  static func dot(_ u: Vector, _ v: Vector) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }

  /// ∇_y g(x, y) = A y + Bᵀ x + b.
  static func innerGradientY(_ x: Vector, _ y: Vector) -> Vector {
    plus(plus(times(a, y), times(transposed(b), x)), linear)
  }
  /// ∇_x g(x, y) = B y.
  static func innerGradientX(_ y: Vector) -> Vector { times(b, y) }
  /// ∇_x f(x, y) = x − e.
  static func outerGradientX(_ x: Vector) -> Vector { minus(x, e) }
  /// ∇_y f(x, y) = y − c.
  static func outerGradientY(_ y: Vector) -> Vector { minus(y, c) }

  static var problem: BilevelProblem {
    let a = Tensor(shape: [2, 2], scalars: Self.a.flatMap { $0 })
    let b = Tensor(shape: [2, 2], scalars: Self.b.flatMap { $0 })
    let linear = Tensor(Self.linear)
    let c = Tensor(Self.c)
    let e = Tensor(Self.e)
    return BilevelProblem(
      outer: { x, y in 0.5 * (y - c).squared().sum() + 0.5 * (x - e).squared().sum() },
      inner: { x, y in 0.5 * Autodiff.dot(y, matmul(a, y)) + Autodiff.dot(x, matmul(b, y)) + Autodiff.dot(linear, y) })
  }

  static func maximumDifference(_ tensor: Tensor, _ vector: Vector) -> Double {
    zip(tensor.scalars, vector).map { abs($0 - $1) }.max() ?? .infinity
  }

  /// Expects `tensor` to equal `vector` to `tolerance` in every entry.
  static func expectMatch(
    _ tensor: Tensor, _ vector: Vector, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let difference = maximumDifference(tensor, vector)
    #expect(
      difference <= tolerance, "\(label): package \(tensor.scalars), transcription \(vector)",
      sourceLocation: sourceLocation)
  }

  // MARK: - F2SA

  /// F2SA, seed 002 lines 140–147, with k-dependent α_k, γ_k and δ_k:
  /// ```
  /// z_{k,t+1} ← z_{k,t} − γ_k h_gz,  y_{k,t+1} ← y_{k,t} − α_k (h_fy + λ_k h_gy)    (line 5)
  /// x_{k+1} ← x_k − ξ α_k (h_fx + λ_k (h_gxy − h_gxz))                             (line 8)
  /// λ_{k+1} = λ_k + δ_k                                                             (line 9)
  /// ```
  /// z₀ = y₀ (the box leaves z₀ to the caller; the package starts z at y₀). With
  /// `scaledPenalty` the y step is the documented deviation α_k (h_fy / λ_k + h_gy).
  @Test(
    "F2SA: three iterations of lines 3 to 9 of the box (and of its scaled-penalty deviation)",
    arguments: [false, true])
  func f2sa(scaledPenalty: Bool) {
    let penalizedStep = StepSchedule.decreasing(0.1, exponent: 0.5)  // α_k
    let innerStep = StepSchedule.decreasing(0.2, exponent: 0.5)  // γ_k
    let increment = StepSchedule.decreasing(0.5, exponent: 1)  // δ_k
    let (ratio, initialMultiplier, innerIterations) = (0.7, 2.0, 3)
    var algorithm = F2SA(
      penalizedStep: penalizedStep, innerStep: innerStep, stepRatio: ratio, initialMultiplier: initialMultiplier,
      multiplierIncrement: increment, innerIterations: innerIterations, scaledPenalty: scaledPenalty,
      settings: StochasticSettings(batchSize: nil))
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(Self.x0), y: Tensor(Self.y0), oracles: oracles)

    var (x, y, z, lambda) = (Self.x0, Self.y0, Self.y0, initialMultiplier)
    for k in 0..<3 {
      let (alpha, gamma) = (penalizedStep.value(at: k), innerStep.value(at: k))
      for _ in 0..<innerIterations {
        z = Self.minus(z, Self.scaled(gamma, Self.innerGradientY(x, z)))
        let (hfy, hgy) = (Self.outerGradientY(y), Self.innerGradientY(x, y))
        let direction =
          scaledPenalty ? Self.plus(Self.scaled(1 / lambda, hfy), hgy) : Self.plus(hfy, Self.scaled(lambda, hgy))
        y = Self.minus(y, Self.scaled(alpha, direction))
      }
      let hgxy = Self.innerGradientX(y)
      let hgxz = Self.innerGradientX(z)
      let direction = Self.plus(Self.outerGradientX(x), Self.scaled(lambda, Self.minus(hgxy, hgxz)))
      x = Self.minus(x, Self.scaled(ratio * alpha, direction))
      lambda += increment.value(at: k)

      let returned = algorithm.step(oracles: oracles)
      Self.expectMatch(returned, direction, "direction at k = \(k)")
      Self.expectMatch(algorithm.x, x, "x_\(k + 1)")
      Self.expectMatch(algorithm.y, y, "y_\(k + 1)")
      Self.expectMatch(algorithm.z, z, "z_\(k + 1)")
      #expect(abs(algorithm.multiplier - lambda) <= Self.tolerance, "λ_\(k + 1)")
    }
  }

  // MARK: - BOME

  /// BOME, seed 004 lines 113–145 ("Step 1", "Step 2") with the barrier of Theorem 2
  /// (line 175), φ_k = η ‖∇q̂‖²:
  /// ```
  /// θ^(T): T gradient steps on g(v, ·) from θ_k (step α), then stop-gradient
  /// q̂(v, θ) = g(v, θ) − g(v, θ^(T)),  ∇q̂ = (∇_v g(v, θ) − ∇_v g(v, θ^(T)), ∇_θ g(v, θ))
  /// δ_k = argmin_δ ‖∇f − δ‖²  subject to  ⟨∇q̂, δ⟩ ≥ φ_k
  /// (v_{k+1}, θ_{k+1}) = (v_k, θ_k) − ξ δ_k
  /// ```
  /// The seed states the projection δ_k but not its solution; the transcription solves the
  /// one-constraint QP by its KKT conditions (the closed form in Liu et al., NeurIPS 2022):
  /// δ = ∇f + λ ∇q̂, λ = max(φ − ⟨∇f, ∇q̂⟩, 0) / ‖∇q̂‖², and checks the constraint.
  @Test("BOME: three iterations of steps 1 and 2 with φ = η‖∇q̂‖²")
  func bome() {
    let (jointStep, innerStep, innerIterations, barrierWeight) = (0.1, 0.3, 3, 0.5)
    var algorithm = BOME(
      jointStep: jointStep, innerStep: innerStep, innerIterations: innerIterations, barrierWeight: barrierWeight)
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(Self.x0), y: Tensor(Self.y0), oracles: oracles)

    var (x, y) = (Self.x0, Self.y0)
    var activeIterations = 0
    for k in 0..<3 {
      var yT = y
      for _ in 0..<innerIterations { yT = Self.minus(yT, Self.scaled(innerStep, Self.innerGradientY(x, yT))) }
      let qx = Self.minus(Self.innerGradientX(y), Self.innerGradientX(yT))
      let qy = Self.innerGradientY(x, y)
      let (fx, fy) = (Self.outerGradientX(x), Self.outerGradientY(y))
      let normSquared = Self.dot(qx, qx) + Self.dot(qy, qy)
      let phi = barrierWeight * normSquared
      let lambda = max(phi - (Self.dot(fx, qx) + Self.dot(fy, qy)), 0) / normSquared
      if lambda > 0 { activeIterations += 1 }
      let deltaX = Self.plus(fx, Self.scaled(lambda, qx))
      let deltaY = Self.plus(fy, Self.scaled(lambda, qy))
      // δ_k is feasible: ⟨∇q̂, δ⟩ ≥ φ (with equality when the constraint is active).
      #expect(Self.dot(qx, deltaX) + Self.dot(qy, deltaY) >= phi - 1e-12)
      x = Self.minus(x, Self.scaled(jointStep, deltaX))
      y = Self.minus(y, Self.scaled(jointStep, deltaY))

      _ = algorithm.step(oracles: oracles)
      Self.expectMatch(algorithm.x, x, "x_\(k + 1)")
      Self.expectMatch(algorithm.y, y, "y_\(k + 1)")
      #expect(abs(algorithm.multiplier - lambda) <= Self.tolerance, "λ at k = \(k)")
    }
    // The transcription exercises the barrier: at least one step projects ∇f.
    #expect(activeIterations > 0)
  }

  // MARK: - AID-BIO

  /// AID-BIO, seed 000 lines 180–204, "Basic IF-Based Framework for Solving LU-BLO" with
  /// "Approach 1" (CG):
  /// ```
  /// 1  LL optimization: ŷ(x_t) by T steps y ← y − β ∇_y g(x_t, y)
  /// 2–3  ∇̂f(x_t) = ∇_x f(x_t, ŷ) − ∇²_xy g(x_t, ŷ) H⁻¹ ∇_y f(x_t, ŷ),  H = ∇²_yy g(x_t, ŷ)
  /// 4  x_{t+1} = x_t − α ∇̂f(x_t)
  /// ```
  /// CG with two iterations is exact on the 2 × 2 system, so H⁻¹ is the explicit inverse.
  /// The seed does not say where step 1 starts; the warm start from the previous ŷ is
  /// from Ji, Yang and Liang (ICML 2021, Algorithm 1).
  @Test("AID-BIO: three iterations of the IF framework with an exact linear solve")
  func aidbioExact() {
    let (outerStep, innerStep, innerIterations) = (0.2, 0.3, 3)
    var algorithm = AIDBIO(
      outerStep: outerStep, innerStep: innerStep, innerIterations: innerIterations,
      linearSolver: .conjugateGradient(maxIterations: 2, tolerance: 1e-14))
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(Self.x0), y: Tensor(Self.y0), oracles: oracles)

    let determinant = Self.a[0][0] * Self.a[1][1] - Self.a[0][1] * Self.a[1][0]
    let inverse: Matrix = [
      [Self.a[1][1] / determinant, -Self.a[0][1] / determinant],
      [-Self.a[1][0] / determinant, Self.a[0][0] / determinant],
    ]
    var (x, y) = (Self.x0, Self.y0)
    for k in 0..<3 {
      for _ in 0..<innerIterations { y = Self.minus(y, Self.scaled(innerStep, Self.innerGradientY(x, y))) }
      let v = Self.times(inverse, Self.outerGradientY(y))
      let hypergradient = Self.minus(Self.outerGradientX(x), Self.times(Self.b, v))
      x = Self.minus(x, Self.scaled(outerStep, hypergradient))

      let returned = algorithm.step(oracles: oracles)
      Self.expectMatch(returned, hypergradient, "∇̂f at k = \(k)")
      Self.expectMatch(algorithm.x, x, "x_\(k + 1)")
      Self.expectMatch(algorithm.y, y, "y_\(k + 1)")
    }
  }

  /// AID-BIO with one CG iteration per outer step, where the start of the linear solve
  /// shows. The seed's CG approach gives no start; Ji, Yang and Liang (ICML 2021,
  /// Algorithm 1) start from the previous v (`warmStartLinearSolve`), else from 0:
  /// ```
  /// r = ∇_y f − H v₀,  v = v₀ + (rᵀr / rᵀH r) r
  /// ```
  @Test("AID-BIO: three iterations with one CG step, warm-started or from zero", arguments: [true, false])
  func aidbioOneConjugateGradientStep(warmStart: Bool) {
    let (outerStep, innerStep, innerIterations) = (0.2, 0.3, 3)
    var algorithm = AIDBIO(
      outerStep: outerStep, innerStep: innerStep, innerIterations: innerIterations,
      linearSolver: .conjugateGradient(maxIterations: 1, tolerance: 0), warmStartLinearSolve: warmStart)
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(Self.x0), y: Tensor(Self.y0), oracles: oracles)

    var (x, y, v) = (Self.x0, Self.y0, [0.0, 0.0])
    for k in 0..<3 {
      for _ in 0..<innerIterations { y = Self.minus(y, Self.scaled(innerStep, Self.innerGradientY(x, y))) }
      let v0 = warmStart ? v : [0, 0]
      let r = Self.minus(Self.outerGradientY(y), Self.times(Self.a, v0))
      v = Self.plus(v0, Self.scaled(Self.dot(r, r) / Self.dot(r, Self.times(Self.a, r)), r))
      let hypergradient = Self.minus(Self.outerGradientX(x), Self.times(Self.b, v))
      x = Self.minus(x, Self.scaled(outerStep, hypergradient))

      _ = algorithm.step(oracles: oracles)
      Self.expectMatch(algorithm.x, x, "x_\(k + 1)")
      Self.expectMatch(algorithm.y, y, "y_\(k + 1)")
    }
  }

  // MARK: - ITD-BIO

  /// ITD-BIO, seed 000 lines 273–328, "Basic GU-Based Framework" with h the gradient mapping
  /// (line 291), and the backward recursion of "Backward Gradient Unrolling (BGU)":
  /// ```
  /// y_k = y_{k−1} − β ∇_y g(x_t, y_{k−1}),  k = 1…K      (y₀ independent of x)
  /// c_K = ∂f/∂x (x, y_K),  d_K = ∂f/∂y (x, y_K)
  /// c_{k−1} = c_k + B_kᵀ d_k,  d_{k−1} = A_kᵀ d_k,  A_k = I − β A,  B_k = −β Bᵀ
  /// x_{t+1} = x_t − α c₀
  /// ```
  /// The seed does not say what y₀ is at the next outer step; the warm start y₀ = y_K of
  /// the previous step is from Ji, Yang and Liang (ICML 2021, Algorithm 2). Every
  /// differentiation mode of the loop must give the same iterates.
  @Test(
    "ITD-BIO: three iterations of the GU framework with the BGU recursion",
    arguments: [UnrollMode.reverse, .forward, .checkpointed(every: 2)])
  func itdbio(mode: UnrollMode) {
    let (outerStep, innerStep, innerIterations) = (0.2, 0.3, 3)
    var algorithm = ITDBIO(outerStep: outerStep, innerStep: innerStep, innerIterations: innerIterations, mode: mode)
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(Self.x0), y: Tensor(Self.y0), oracles: oracles)

    var (x, y) = (Self.x0, Self.y0)
    for k in 0..<3 {
      var yK = y
      for _ in 0..<innerIterations { yK = Self.minus(yK, Self.scaled(innerStep, Self.innerGradientY(x, yK))) }
      var gradient = Self.outerGradientX(x)  // c_K
      var adjoint = Self.outerGradientY(yK)  // d_K
      for _ in 0..<innerIterations {
        gradient = Self.minus(gradient, Self.scaled(innerStep, Self.times(Self.b, adjoint)))  // c_{k−1}
        adjoint = Self.minus(adjoint, Self.scaled(innerStep, Self.times(Self.a, adjoint)))  // d_{k−1}
      }
      x = Self.minus(x, Self.scaled(outerStep, gradient))
      y = yK

      let returned = algorithm.step(oracles: oracles)
      Self.expectMatch(returned, gradient, "df/dx at k = \(k)")
      Self.expectMatch(algorithm.x, x, "x_\(k + 1)")
      Self.expectMatch(algorithm.y, y, "y_\(k + 1)")
    }
  }
}
