import Autodiff
import BilevelAD
import Testing

/// Hand transcriptions of the SOBA and SRBA slides of `seeds/003_1ca1a7dab5343dc4.txt` (M. Dagréou's PhD
/// defence), and of SABA as the SAGA rule the slides cite, on a finite-sum quadratic with n = 3 inner and
/// m = 2 outer samples whose every derivative is plain arithmetic. The slides' λ is x, their θ is y:
/// ```
/// g_i(x, y) = ½ yᵀ A_i y + xᵀ B_i y + a_iᵀ y   ∇_y g_i = A_i y + B_iᵀ x + a_i,  ∇²_yy g_i v = A_i v
///                                              ∇²_xy g_i v = B_i v
/// f_j(x, y) = ½ ‖y − c_j‖² + ½ ‖x − e_j‖²      ∇_y f_j = y − c_j,  ∇_x f_j = x − e_j
/// ```
/// The samples i and j are either every sample (full batches) or single samples drawn by the package's
/// fixed-block samplers, whose order the tests reproduce from the public `MinibatchSampler` and check
/// against the batches the objectives were called with, so that a difference in the iterates is a
/// difference in the update rule, not in the samples.
@Suite("Seed transcriptions: SOBA, SABA and SRBA (seed 003)")
struct StochasticTranscriptionTests {
  typealias Vector = [Double]
  typealias Matrix = [[Double]]

  static let innerHessians: [Matrix] = [[[2, 0.5], [0.5, 1]], [[1.5, -0.3], [-0.3, 2]], [[1, 0.2], [0.2, 3]]]
  static let innerCrosses: [Matrix] = [
    [[0.4, -0.3], [0.2, 0.7]], [[-0.5, 0.1], [0.3, 0.2]], [[0.6, 0.4], [-0.2, -0.1]],
  ]
  static let innerLinear: [Vector] = [[0.3, -0.2], [-0.1, 0.4], [0.5, 0.1]]
  static let outerTargetsY: [Vector] = [[2.5, -1.5], [1, 0.5]]
  static let outerTargetsX: [Vector] = [[3, -2], [-1, 1]]
  static let allInner = [0, 1, 2]
  static let allOuter = [0, 1]
  static let x0: Vector = [0.5, -0.5]
  static let y0: Vector = [0.2, -0.1]

  // MARK: Plain arithmetic

  static func times(_ m: Matrix, _ v: Vector) -> Vector { m.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } } }
  static func transposed(_ m: Matrix) -> Matrix { (0..<2).map { j in (0..<2).map { i in m[i][j] } } }
  static func plus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 + $1 } }
  static func minus(_ u: Vector, _ v: Vector) -> Vector { zip(u, v).map { $0 - $1 } }
  static func scaled(_ s: Double, _ v: Vector) -> Vector { v.map { s * $0 } }
  static func mean(_ vectors: [Vector]) -> Vector {
    scaled(1 / Double(vectors.count), vectors.dropFirst().reduce(vectors[0], plus))
  }
  static func maximumDifference(_ tensor: Tensor, _ vector: Vector) -> Double {
    zip(tensor.scalars, vector).map { abs($0 - $1) }.max() ?? .infinity
  }

  // MARK: The per-sample oracles, by hand

  /// ∇_y g_i(x, y) = A_i y + B_iᵀ x + a_i.
  static func innerGradientY(_ i: Int, x: Vector, y: Vector) -> Vector {
    plus(plus(times(innerHessians[i], y), times(transposed(innerCrosses[i]), x)), innerLinear[i])
  }
  /// ∇²_yy g_i(x, y) v = A_i v.
  static func hessianVector(_ i: Int, _ v: Vector) -> Vector { times(innerHessians[i], v) }
  /// ∇²_xy g_i(x, y) v = B_i v.
  static func crossVector(_ i: Int, _ v: Vector) -> Vector { times(innerCrosses[i], v) }
  /// ∇_y f_j(x, y) = y − c_j.
  static func outerGradientY(_ j: Int, y: Vector) -> Vector { minus(y, outerTargetsY[j]) }
  /// ∇_x f_j(x, y) = x − e_j.
  static func outerGradientX(_ j: Int, x: Vector) -> Vector { minus(x, outerTargetsX[j]) }

  /// The slides' directions D^{I,J} = (D_θ, D_v, D_λ) with g and f averaged over the samples I and J
  /// ("Framework for *stochastic* bilevel optimization", "Update directions", linear in f and g):
  /// ```
  /// D_θ = ∇_θ g(λ, θ),   D_v = ∇²_θθ g(λ, θ) v + ∇_θ f(λ, θ),   D_λ = ∇²_λθ g(λ, θ) v + ∇_λ f(λ, θ)
  /// ```
  static func directions(
    inner: [Int], outer: [Int], x: Vector, y: Vector, v: Vector
  ) -> (y: Vector, v: Vector, x: Vector) {
    let dY = mean(inner.map { innerGradientY($0, x: x, y: y) })
    let dV = plus(mean(inner.map { hessianVector($0, v) }), mean(outer.map { outerGradientY($0, y: y) }))
    let dX = plus(mean(inner.map { crossVector($0, v) }), mean(outer.map { outerGradientX($0, x: x) }))
    return (dY, dV, dX)
  }

  // MARK: The problem, with a record of the batches it is called on

  /// The batches the objectives were called with since the last `take()`.
  final class BatchLog {
    var inner: [[Int]] = []
    var outer: [[Int]] = []

    /// The distinct inner and outer batches recorded, and a fresh start.
    func take() -> (inner: Set<[Int]>, outer: Set<[Int]>) {
      defer { (inner, outer) = ([], []) }
      return (Set(inner), Set(outer))
    }
  }

  static func problem(log: BatchLog) -> BilevelProblem {
    func matrix(_ m: Matrix) -> Tensor { Tensor(shape: [2, 2], scalars: m.flatMap { $0 }) }
    let a = innerHessians.map(matrix)
    let b = innerCrosses.map(matrix)
    let l = innerLinear.map { Tensor($0) }
    let c = outerTargetsY.map { Tensor($0) }
    let e = outerTargetsX.map { Tensor($0) }
    return BilevelProblem(
      outerSampleCount: 2, innerSampleCount: 3,
      outer: { x, y, batch in
        log.outer.append(batch)
        let terms = batch.map { j in 0.5 * (y - c[j]).squared().sum() + 0.5 * (x - e[j]).squared().sum() }
        return terms.dropFirst().reduce(terms[0]) { $0 + $1 } / Double(batch.count)
      },
      inner: { x, y, batch in
        log.inner.append(batch)
        let terms = batch.map { i in 0.5 * dot(y, matmul(a[i], y)) + dot(x, matmul(b[i], y)) + dot(l[i], y) }
        return terms.dropFirst().reduce(terms[0]) { $0 + $1 } / Double(batch.count)
      })
  }

  /// The samples of each stochastic step: single samples in the order the package's fixed-block samplers
  /// draw them for `settings` (the inner one seeded by `seed`, the outer one by `seed &+ 0x9E37_79B9`, as
  /// `BatchStreams` in StochasticSettings.swift does), or every sample for full batches.
  struct Draws {
    var inner: MinibatchSampler?
    var outer: MinibatchSampler?

    init(settings: StochasticSettings) {
      guard let size = settings.batchSize else { return }
      inner = MinibatchSampler(sampleCount: 3, batchSize: size, scheme: .fixedBlocks, seed: settings.seed)
      outer = MinibatchSampler(
        sampleCount: 2, batchSize: size, scheme: .fixedBlocks, seed: settings.seed &+ 0x9E37_79B9)
    }

    mutating func next() -> (inner: [Int], outer: [Int]) {
      (
        inner?.next().indices ?? StochasticTranscriptionTests.allInner,
        outer?.next().indices ?? StochasticTranscriptionTests.allOuter
      )
    }
  }

  /// Checks the iterates and the x-direction of the package against the transcription after one step.
  static func expectIterates(
    _ name: String, step t: Int, x: (Tensor, Vector), y: (Tensor, Vector), v: (Tensor, Vector),
    direction: (Tensor, Vector), sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      maximumDifference(direction.0, direction.1) < 1e-12, "\(name): D_λ at t = \(t)", sourceLocation: sourceLocation)
    #expect(maximumDifference(x.0, x.1) < 1e-12, "\(name): λ at t = \(t + 1)", sourceLocation: sourceLocation)
    #expect(maximumDifference(y.0, y.1) < 1e-12, "\(name): θ at t = \(t + 1)", sourceLocation: sourceLocation)
    #expect(maximumDifference(v.0, v.1) < 1e-12, "\(name): v at t = \(t + 1)", sourceLocation: sourceLocation)
  }

  // MARK: SOBA

  /// Slide "SOBA (StOchastic Bilevel Algorithm) in details", box "SOBA directions", then box "Stochastic
  /// Bilevel Dynamics" of slide "Framework for *stochastic* bilevel optimization".
  @Test(
    "SOBA: three iterations of the 'SOBA directions' box with ρ^t ∝ t^(-1/2), on full batches and on single samples",
    arguments: [nil, 1] as [Int?])
  func soba(batchSize: Int?) {
    let settings = StochasticSettings(batchSize: batchSize, seed: 3)
    let (scale, outerRatio) = (0.5, 2.0)
    var draws = Draws(settings: settings)
    // v^0 = 0 (the slides leave it open; the package starts there).
    var (x, y, v) = (Self.x0, Self.y0, [0.0, 0.0])
    let log = BatchLog()
    let oracles = Self.problem(log: log).makeOracles()
    var algorithm = SOBA(innerStep: .decreasing(scale, exponent: 0.5), outerRatio: outerRatio, settings: settings)
    algorithm.start(x: Tensor(x), y: Tensor(y), oracles: oracles)
    for t in 0..<3 {
      // "Convergence of SOBA": ρ^t ≍ t^{-1/2} and γ^t ≍ t^{-1/2}; here ρ^t = 0.5/√(t+1), γ^t = ρ^t/2.
      let rho = scale / Double(t + 1).squareRoot()
      let gamma = rho / outerRatio
      // "Sample i ∈ {1, …, n} and j ∈ {1, …, m} and set"
      let (i, j) = draws.next()
      // D_θ^t = ∇_θ g_i(λ^t, θ^t)
      // D_v^t = ∇²_θθ g_i(λ^t, θ^t) v^t + ∇_θ f_j(λ^t, θ^t)
      // D_λ^t = ∇²_λθ g_i(λ^t, θ^t) v^t + ∇_λ f_j(λ^t, θ^t)
      let d = Self.directions(inner: i, outer: j, x: x, y: y, v: v)
      // [θ^{t+1}; v^{t+1}; λ^{t+1}] = [θ^t − ρ^t D_θ^t; v^t − ρ^t D_v^t; λ^t − γ^t D_λ^t]
      (y, v, x) = (
        Self.minus(y, Self.scaled(rho, d.y)), Self.minus(v, Self.scaled(rho, d.v)),
        Self.minus(x, Self.scaled(gamma, d.x))
      )

      let direction = algorithm.step(oracles: oracles)
      let batches = log.take()
      #expect(batches.inner == [i] && batches.outer == [j], "SOBA: samples at t = \(t): \(batches) vs \((i, j))")
      Self.expectIterates(
        "SOBA", step: t, x: (algorithm.x, x), y: (algorithm.y, y), v: (algorithm.v, v), direction: (direction, d.x))
    }
  }

  // MARK: SABA

  /// The seed has no SABA box: its slide "Why decreasing the step sizes?" only names "Variance reduction
  /// algorithms [Johnson et al. '13, Defazio et al. '14, ...]". This transcribes SAGA (Defazio, Bach and
  /// Lacoste-Julien, NeurIPS 2014) applied to each term of the slides' directions, which are "Linear in f
  /// and g": one memory per inner sample for ∇_θ g_i, ∇²_θθ g_i v, ∇²_λθ g_i v, one per outer sample for
  /// ∇_θ f_j, ∇_λ f_j, started at zero (an assumption: the seed does not say), then the dynamics box.
  @Test("SABA: four iterations of SAGA on each term of the directions, on single samples, memories revisited")
  func saba() {
    let settings = StochasticSettings(batchSize: 1, seed: 3)
    let (rho, outerRatio) = (0.3, 2.0)
    let gamma = rho / outerRatio
    var draws = Draws(settings: settings)
    var (x, y, v) = (Self.x0, Self.y0, [0.0, 0.0])
    let zero: Vector = [0, 0]
    var gradientMemory = Array(repeating: zero, count: 3)
    var hessianMemory = Array(repeating: zero, count: 3)
    var crossMemory = Array(repeating: zero, count: 3)
    var outerYMemory = Array(repeating: zero, count: 2)
    var outerXMemory = Array(repeating: zero, count: 2)
    /// SAGA: the new value φ_k, minus its stored value, plus the mean of the stored values; then store φ_k.
    func saga(_ value: Vector, _ memory: inout [Vector], _ k: Int) -> Vector {
      let direction = Self.plus(Self.minus(value, memory[k]), Self.mean(memory))
      memory[k] = value
      return direction
    }
    let log = BatchLog()
    let oracles = Self.problem(log: log).makeOracles()
    var algorithm = SABA(innerStep: .constant(rho), outerRatio: outerRatio, settings: settings)
    algorithm.start(x: Tensor(x), y: Tensor(y), oracles: oracles)
    var visited = (inner: [Int](), outer: [Int]())
    for t in 0..<4 {
      // "Sample i ∈ {1, …, n} and j ∈ {1, …, m}"
      let (batchI, batchJ) = draws.next()
      let (i, j) = (batchI[0], batchJ[0])
      visited.inner.append(i)
      visited.outer.append(j)
      let dY = saga(Self.innerGradientY(i, x: x, y: y), &gradientMemory, i)
      let dV = Self.plus(
        saga(Self.hessianVector(i, v), &hessianMemory, i), saga(Self.outerGradientY(j, y: y), &outerYMemory, j))
      let dX = Self.plus(
        saga(Self.crossVector(i, v), &crossMemory, i), saga(Self.outerGradientX(j, x: x), &outerXMemory, j))
      // [θ^{t+1}; v^{t+1}; λ^{t+1}] = [θ^t − ρ^t D_θ^t; v^t − ρ^t D_v^t; λ^t − γ^t D_λ^t]
      (y, v, x) = (
        Self.minus(y, Self.scaled(rho, dY)), Self.minus(v, Self.scaled(rho, dV)),
        Self.minus(x, Self.scaled(gamma, dX))
      )

      let direction = algorithm.step(oracles: oracles)
      let batches = log.take()
      #expect(batches.inner == [batchI] && batches.outer == [batchJ], "SABA: samples at t = \(t)")
      Self.expectIterates(
        "SABA", step: t, x: (algorithm.x, x), y: (algorithm.y, y), v: (algorithm.v, v), direction: (direction, dX))
    }
    // Four draws from three inner and two outer samples revisit a stored entry on both levels.
    #expect(Set(visited.inner).count < 4 && Set(visited.outer).count < 4, "\(visited)")
  }

  // MARK: SRBA

  /// Slide "SRBA (Stochastic Recursive Bilevel Algorithm)", boxes "Reinitialization of estimate directions"
  /// and "Recursive estimation of the directions", then the dynamics box. The inner-loop length q is not
  /// on the slides: q = 3 here, which the package derives from ⌊(n + m) · periodFraction / B⌋ = ⌊5 · 0.7⌋.
  @Test("SRBA: five iterations, a full-batch restart every q = 3, recursive SARAH steps in between")
  func srba() {
    let settings = StochasticSettings(batchSize: 1, seed: 3)
    let (rho, outerRatio, q) = (0.3, 2.0, 3)
    let gamma = rho / outerRatio
    var draws = Draws(settings: settings)
    var (x, y, v) = (Self.x0, Self.y0, [0.0, 0.0])
    var d: (y: Vector, v: Vector, x: Vector) = ([], [], [])
    var previous = (x: x, y: y, v: v)
    let log = BatchLog()
    let oracles = Self.problem(log: log).makeOracles()
    var algorithm = SRBA(innerStep: .constant(rho), outerRatio: outerRatio, periodFraction: 0.7, settings: settings)
    algorithm.start(x: Tensor(x), y: Tensor(y), oracles: oracles)
    for step in 0..<5 {
      let k = step % q  // (t, k) = (step / q, step % q): outer and inner loop indices
      let expectedBatches: (inner: [Int], outer: [Int])
      if k == 0 {
        // "Reinitialization of estimate directions" ("Full batch directions"):
        // D_θ^{t,0} = D_θ(θ^{t,0}, v^{t,0}, λ^{t,0}),  D_v^{t,0} = D_v(…),  D_λ^{t,0} = D_λ(…)
        d = Self.directions(inner: Self.allInner, outer: Self.allOuter, x: x, y: y, v: v)
        expectedBatches = (Self.allInner, Self.allOuter)
      } else {
        // "Sample i ∈ {1, …, n} and j ∈ {1, …, m} and set"
        let (i, j) = draws.next()
        // D_θ^{t,k} = D_θ^{i,j}(θ^{t,k}, v^{t,k}, λ^{t,k}) − D_θ^{i,j}(θ^{t,k−1}, v^{t,k−1}, λ^{t,k−1}) + D_θ^{t,k−1}
        // D_v^{t,k} = D_v^{i,j}(θ^{t,k}, v^{t,k}, λ^{t,k}) − D_v^{i,j}(θ^{t,k−1}, v^{t,k−1}, λ^{t,k−1}) + D_v^{t,k−1}
        // D_λ^{t,k} = D_λ^{i,j}(θ^{t,k}, v^{t,k}, λ^{t,k}) − D_λ^{i,j}(θ^{t,k−1}, v^{t,k−1}, λ^{t,k−1}) + D_λ^{t,k−1}
        let now = Self.directions(inner: i, outer: j, x: x, y: y, v: v)
        let then = Self.directions(inner: i, outer: j, x: previous.x, y: previous.y, v: previous.v)
        d = (
          Self.plus(Self.minus(now.y, then.y), d.y), Self.plus(Self.minus(now.v, then.v), d.v),
          Self.plus(Self.minus(now.x, then.x), d.x)
        )
        expectedBatches = (i, j)
      }
      previous = (x, y, v)
      // θ^{t,k+1} = θ^{t,k} − ρ D_θ^{t,k},  v^{t,k+1} = v^{t,k} − ρ D_v^{t,k},  λ^{t,k+1} = λ^{t,k} − γ D_λ^{t,k}
      (y, v, x) = (
        Self.minus(y, Self.scaled(rho, d.y)), Self.minus(v, Self.scaled(rho, d.v)),
        Self.minus(x, Self.scaled(gamma, d.x))
      )

      let direction = algorithm.step(oracles: oracles)
      let batches = log.take()
      #expect(
        batches.inner == [expectedBatches.inner] && batches.outer == [expectedBatches.outer],
        "SRBA: samples at step \(step) (k = \(k)): \(batches)")
      Self.expectIterates(
        "SRBA", step: step, x: (algorithm.x, x), y: (algorithm.y, y), v: (algorithm.v, v),
        direction: (direction, d.x))
    }
  }
}
