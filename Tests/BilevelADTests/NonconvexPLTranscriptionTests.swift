import Autodiff
import BilevelAD
import Foundation
import Testing

/// Hand transcriptions of the boxes of `seeds/001_71a07ee1a5f6e715.txt` ("Algorithm 1
/// MGBiO Algorithm" and "Algorithm 1 Hessian/Jacobian-free Bilevel Optimization (i.e,
/// HJFBiO) Algorithm") on a 2 × 2 quadratic whose every derivative is plain arithmetic:
/// ```
/// g(x, y) = ½ yᵀ A y + xᵀ B y        ∇_y g = A y + Bᵀ x,  ∇_x g = B y,  ∇²_yy g = A,  ∇²_xy g v = B v
/// f(x, y) = ½ ‖y − c‖² + ½ ‖x − e‖²  ∇_x f = x − e,  ∇_y f = y − c
/// ```
/// A = R diag(0, 5) Rᵀ is singular (g is PL, not strongly convex), so the spectrum
/// projection S_[μ, L_g] with [μ, L_g] = [0.5, 2] moves both eigenvalues.
@Suite("Seed transcriptions: MGBiO and HJFBiO (seed 001)")
struct NonconvexPLTranscriptionTests {
  typealias Vector = [Double]
  typealias Matrix = [[Double]]

  static let angle = 0.3
  static let rotation: Matrix = [[cos(angle), -sin(angle)], [sin(angle), cos(angle)]]
  static let a = rotated(diagonal: [0, 5])
  static let b: Matrix = [[0.4, -0.3], [0.2, 0.7]]
  static let c: Vector = [2.5, -1.5]
  static let e: Vector = [3, -2]

  static func rotated(diagonal: Vector) -> Matrix {
    let r = rotation
    return (0..<2).map { i in (0..<2).map { j in (0..<2).reduce(0) { $0 + r[i][$1] * diagonal[$1] * r[j][$1] } } }
  }
  static func times(_ m: Matrix, _ v: Vector) -> Vector { m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }
  static func transposed(_ m: Matrix) -> Matrix { (0..<2).map { j in (0..<2).map { i in m[i][j] } } }
  static func plus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 + $1 } }
  static func minus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 - $1 } }
  static func scaled(_ s: Double, _ v: Vector) -> Vector { v.map { s * $0 } }
  static func norm(_ v: Vector) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
  /// The projection onto the ball of the given radius, and whether it moved the point.
  static func ball(_ v: Vector, radius: Double) -> (Vector, active: Bool) {
    let n = norm(v)
    return n > radius ? (scaled(radius / n, v), true) : (v, false)
  }

  static var problem: BilevelProblem {
    let a = Tensor(shape: [2, 2], scalars: Self.a.flatMap { $0 })
    let b = Tensor(shape: [2, 2], scalars: Self.b.flatMap { $0 })
    let c = Tensor(Self.c)
    let e = Tensor(Self.e)
    return BilevelProblem(
      outer: { x, y in 0.5 * (y - c).squared().sum() + 0.5 * (x - e).squared().sum() },
      inner: { x, y in 0.5 * dot(y, matmul(a, y)) + dot(x, matmul(b, y)) })
  }

  static func maximumDifference(_ tensor: Tensor, _ vector: Vector) -> Double {
    zip(tensor.scalars, vector).map { abs($0 - $1) }.max() ?? .infinity
  }

  @Test("MGBiO: three iterations of lines 3 to 7, with S_[μ, L_g] and Proj_X active")
  func mgbio() {
    let (lambda, gamma, radius) = (0.3, 0.2, 1.0)
    let averaging = StepSchedule.decreasing(0.9, exponent: 1)  // η_t = 0.9, 0.45, 0.3
    // S_[0.5, 2][A] = R diag(0.5, 2) Rᵀ, so H⁻¹ = R diag(2, 0.5) Rᵀ.
    let inverseH = Self.rotated(diagonal: [1 / 0.5, 1 / 2])
    var x: Vector = [0.5, 0.5]
    var y: Vector = [0.2, -0.1]
    var algorithm = MGBiO(
      innerStep: lambda, outerStep: gamma, averaging: averaging, spectrum: 0.5...2, constraint: .ball(radius: radius))
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(x), y: Tensor(y), oracles: oracles)
    var proximalActive = false
    for t in 0..<3 {
      let eta = averaging.value(at: t)
      // Line 3.
      let v = Self.plus(Self.times(Self.a, y), Self.times(Self.transposed(Self.b), x))
      let u = Self.minus(x, Self.e)
      let h = Self.minus(y, Self.c)
      // Lines 4 and 5: w_t = u_t − G_t H_t⁻¹ h_t with G_t v = B v.
      let w = Self.minus(u, Self.times(Self.b, Self.times(inverseH, h)))
      // Line 6.
      let (proximal, active) = Self.ball(Self.minus(x, Self.scaled(gamma, w)), radius: radius)
      proximalActive = proximalActive || active
      let nextX = Self.plus(x, Self.scaled(eta, Self.minus(proximal, x)))
      // Line 7.
      let candidateY = Self.minus(y, Self.scaled(lambda, v))
      y = Self.plus(y, Self.scaled(eta, Self.minus(candidateY, y)))
      x = nextX
      let direction = algorithm.step(oracles: oracles)
      #expect(Self.maximumDifference(direction, w) < 1e-12, "w at t = \(t + 1)")
      #expect(Self.maximumDifference(algorithm.x, x) < 1e-12, "x at t = \(t + 2)")
      #expect(Self.maximumDifference(algorithm.y, y) < 1e-12, "y at t = \(t + 2)")
    }
    #expect(proximalActive, "the test must exercise Proj_X")
  }

  @Test("HJFBiO: three iterations of lines 3 to 5, with P^γ_φ, P_{r_v} and M_{r_h} each active")
  func hjfbio() {
    let (lambda, gamma, tau, delta) = (0.3, 0.2, 0.8, 0.25)
    // 0 < r_h ≤ r_v L_g = 0.6 × 5.
    let (radiusV, radiusH, radiusX) = (0.6, 0.5, 1.0)
    var x: Vector = [0.5, 0.5]
    var y: Vector = [0.2, -0.1]
    var v: Vector = [0, 0]
    var algorithm = HJFBiO(
      innerStep: lambda, linearSystemStep: tau, outerStep: gamma, finiteDifferenceStep: delta,
      linearSystemRadius: radiusV, hessianVectorRadius: radiusH, constraint: .ball(radius: radiusX))
    let oracles = Self.problem.makeOracles()
    algorithm.start(x: Tensor(x), y: Tensor(y), oracles: oracles)
    var active = (x: false, v: false, h: false)
    func gradientX(_ y: Vector) -> Vector { Self.times(Self.b, y) }
    func gradientY(_ x: Vector, _ y: Vector) -> Vector {
      Self.plus(Self.times(Self.a, y), Self.times(Self.transposed(Self.b), x))
    }
    for t in 0..<3 {
      // Line 3.
      let u = gradientY(x, y)
      let nextY = Self.minus(y, Self.scaled(lambda, u))
      // Line 4: J̃ = (∇_x g(x, y + δv) − ∇_x g(x, y − δv)) / 2δ.
      let plusY = Self.plus(y, Self.scaled(delta, v))
      let minusY = Self.minus(y, Self.scaled(delta, v))
      let jacobianV = Self.scaled(1 / (2 * delta), Self.minus(gradientX(plusY), gradientX(minusY)))
      let w = Self.minus(Self.minus(x, Self.e), jacobianV)
      let (nextX, xActive) = Self.ball(Self.minus(x, Self.scaled(gamma, w)), radius: radiusX)
      // Line 5: H̃ likewise, M_{r_h} the projection of H̃ onto the r_h-ball, P_{r_v} of v's.
      let hessianV = Self.scaled(1 / (2 * delta), Self.minus(gradientY(x, plusY), gradientY(x, minusY)))
      let (projectedH, hActive) = Self.ball(hessianV, radius: radiusH)
      let h = Self.minus(projectedH, Self.minus(y, Self.c))
      let (nextV, vActive) = Self.ball(Self.minus(v, Self.scaled(tau, h)), radius: radiusV)
      active = (active.x || xActive, active.v || vActive, active.h || hActive)
      (x, y, v) = (nextX, nextY, nextV)
      let direction = algorithm.step(oracles: oracles)
      #expect(Self.maximumDifference(direction, w) < 1e-12, "w at t = \(t + 1)")
      #expect(Self.maximumDifference(algorithm.x, x) < 1e-12, "x at t = \(t + 2)")
      #expect(Self.maximumDifference(algorithm.y, y) < 1e-12, "y at t = \(t + 2)")
      #expect(Self.maximumDifference(algorithm.v, v) < 1e-12, "v at t = \(t + 2)")
    }
    #expect(active.x && active.v && active.h, "each projection must be active at least once: \(active)")
  }

  @Test("HJFBiO's oracle calls: three ∇_y g, two ∇_x g and one ∇f per iteration, no second-order product")
  func hjfbioCounts() {
    let counts = stepCounts(
      HJFBiO(), problem: Self.problem, x0: Tensor([0.5, 0.5]), y0: Tensor([0.2, -0.1]), steps: 2)
    for count in counts {
      #expect(count.innerGradientY == 3 && count.innerGradientX == 2)
      #expect(count.outerGradientX == 1 && count.outerGradientY == 1)
      #expect(count.hessianVectorProducts == 0 && count.crossProducts == 0)
    }
  }
}
