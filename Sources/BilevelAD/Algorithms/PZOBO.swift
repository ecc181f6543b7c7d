import Autodiff

/// PZOBO: partial zeroth-order bilevel optimization, a hypergradient whose Jacobian
/// ∂y_N/∂x of the inner gradient-descent map is estimated from finite differences along
/// Gaussian directions, with no second-order oracle.
///
/// Each iteration, with y_N(x', y') the result of N gradient steps of size ρ on g(x', ·)
/// from y', and Q directions u_q ~ N(0, I) of x's shape:
/// ```
/// y⁻ = y;   y ← y_N(x, y⁻)
/// δ_q = (y_N(x + μ u_q, y⁻) − y) / μ                     δ_q ≈ (∂y_N/∂x) u_q
/// D_x = ∇_x f(x, y) + (1/Q) Σ_q ⟨δ_q, ∇_y f(x, y)⟩ u_q      D_x ≈ ∇F(x)
/// x ← x − γ D_x,   γ = ρ / outerRatio
/// ```
/// Since E[u uᵀ] = I, the sum estimates (∂y_N/∂x)ᵀ ∇_y f, the chain rule through the N
/// inner steps, up to O(μ) smoothing and O(√(dim x / Q)) sampling errors.
///
/// Full-batch by default, as in the benchmark. With a batch size in `settings` it is the
/// stochastic variant PZOBO-S: the N inner batches are drawn once per iteration and shared
/// by all Q + 1 inner runs (so the differences see the same samples), and ∇f uses one
/// outer batch. The directions come from a generator seeded from `settings.seed`.
///
/// Oracle calls per iteration: (Q + 1) N ∇_y g, one ∇f (∇_x f and ∇_y f); with the
/// defaults 110 inner gradients.
///
/// References: D. Sow, K. Ji and Y. Liang, "On the convergence theory for Hessian-free
/// bilevel algorithms", NeurIPS 2022. Defaults as in the benchopt bilevel benchmark:
/// constant ρ = 0.1, outer ratio 1, μ = 0.1, N = Q = 10, full batches.
public struct PZOBO: StochasticAlgorithm {
  /// "pzobo".
  public let name = "pzobo"
  /// ρ_t, the step of the inner gradient steps.
  public var innerStep: StepSchedule
  /// γ_t = ρ_t / outerRatio, the step of x.
  public var outerRatio: Double
  /// μ, the size of the perturbations of x.
  public var smoothing: Double
  /// N, the inner gradient steps per run.
  public var innerIterations: Int
  /// Q, the Gaussian directions per iteration.
  public var directionCount: Int
  /// Batches (full by default) and the seed of the directions.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()

  /// PZOBO with the benchmark's defaults: constant ρ = 0.1, outer ratio 1, μ = 0.1,
  /// N = Q = 10, full batches.
  ///
  /// - Parameters:
  ///   - innerStep: ρ_t.
  ///   - outerRatio: ρ_t / γ_t.
  ///   - smoothing: μ.
  ///   - innerIterations: N.
  ///   - directionCount: Q.
  ///   - settings: batch size (nil for full batches), sampling scheme, seed.
  /// - Precondition: μ > 0 and Q ≥ 1.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1, smoothing: Double = 0.1,
    innerIterations: Int = 10, directionCount: Int = 10,
    settings: StochasticSettings = StochasticSettings(batchSize: nil)
  ) {
    require(outerRatio > 0, "PZOBO: outerRatio must be positive, got \(outerRatio)")
    require(smoothing > 0 && smoothing.isFinite, "PZOBO: smoothing must be positive, got \(smoothing)")
    require(
      innerIterations >= 0 && directionCount >= 1,
      "PZOBO: innerIterations must be non-negative and directionCount positive")
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.smoothing = smoothing
    self.innerIterations = innerIterations
    self.directionCount = directionCount
    self.settings = settings
  }

  /// N inner steps, Q perturbed inner runs for the Jacobian estimate, one step on x.
  public mutating func step(oracles: Oracles) -> Tensor {
    let rho = innerStep.value(at: state.t)
    let batches = (0..<innerIterations).map { _ in state.innerBatch() }
    func innerRun(at point: Tensor, from start: Tensor) -> Tensor {
      var z = start
      for batch in batches {
        z = z - rho * oracles.innerGradientY(x: point, y: z, batch: batch)
      }
      return z
    }
    let previousY = y
    state.y = innerRun(at: x, from: previousY)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: state.outerBatch())
    var sum = Tensor.zeros(x.shape)
    for _ in 0..<directionCount {
      let u = Tensor(randomNormal: x.shape, using: &state.generator)
      let delta = (innerRun(at: x + smoothing * u, from: previousY) - y) / smoothing
      sum = sum + dot(delta, outerY).scalar * u
    }
    let directionX = outerX + sum / Double(directionCount)
    state.x = x - (rho / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
