import Autodiff

/// SABA: SOBA with SAGA variance reduction on all five directions.
///
/// Each oracle value g on block b (inner i for ∇_y g, HVP and cross product; outer j for
/// ∇_y f and ∇_x f) is replaced by (g − m_b) + Σ_k w_k m_k before the SOBA steps:
/// ```
/// y ← y − ρ D̃_y,   v ← v − ρ (D̃_hvp + D̃_∇yf),   x ← x − γ (D̃_cross + D̃_∇xf)
/// ```
/// With constant steps the iterates converge to a stationary point (O((n+m)^{2/3}/T) for
/// ρ, γ ∝ (n+m)^{-2/3}), where SOBA with constant steps stalls at a noise floor.
///
/// The memories start empty: m_b = 0 for every block and Σ_k w_k m_k = 0, so a block's
/// first visit contributes its value itself. Seed 003 (`seeds/003_1ca1a7dab5343dc4.txt`,
/// the SABA slides) does not state the initialization; zero is the benchopt benchmark's
/// (SAGA's other common choice, one full pass to fill the tables first, costs n + m
/// oracle calls before the first step).
///
/// Memory: five tables with one entry per block of samples, (n/B)(2 dim y + dim x) +
/// (m/B)(dim y + dim x) values; `memoryByteCount(for:)` reports it and `start` refuses a
/// table above `memoryLimit` bytes.
///
/// References: M. Dagréou, P. Ablin, S. Vaiter and T. Moreau, "A framework for bilevel
/// optimization that enables stochastic and global variance reduction algorithms",
/// NeurIPS 2022.
public struct SABA: StochasticAlgorithm {
  public let name = "saba"
  /// ρ, the step of y and v (constant by default).
  public var innerStep: StepSchedule
  /// γ = ρ / outerRatio.
  public var outerRatio: Double
  /// Mini-batches (sampled by fixed blocks, which index the memory) and seed.
  public var settings: StochasticSettings

  /// x, y, t, the samplers and the generator.
  var state = StochasticIterate()
  /// The most bytes the memory tables may take.
  public var memoryLimit: Int

  public private(set) var v = Tensor(0)
  private var memories: [VarianceReductionMemory] = []

  /// SABA with the benchmark's defaults: constant ρ = 0.1, outer ratio 1, blocks of 64.
  public init(
    innerStep: StepSchedule = .constant(0.1), outerRatio: Double = 1,
    settings: StochasticSettings = StochasticSettings(), memoryLimit: Int = 1 << 30
  ) {
    require(outerRatio > 0, "SABA: outerRatio must be positive, got \(outerRatio)")
    var settings = settings
    settings.sampling = .fixedBlocks
    self.innerStep = innerStep
    self.outerRatio = outerRatio
    self.settings = settings
    self.memoryLimit = memoryLimit
  }

  /// The bytes SABA's memory takes on `problem` with variables of the given sizes.
  public func memoryByteCount(for problem: BilevelProblem, outerSize: Int, innerSize: Int) -> Int {
    let streams = BatchStreams(problem: problem, settings: settings)
    return VarianceReductionMemory.byteCount(
      blockCount: streams.innerBlockCount, valuesPerEntry: 2 * innerSize + outerSize)
      + VarianceReductionMemory.byteCount(blockCount: streams.outerBlockCount, valuesPerEntry: innerSize + outerSize)
  }

  public mutating func start(x: Tensor, y: Tensor, oracles: Oracles) {
    state = StochasticIterate(x: x, y: y, oracles: oracles, settings: settings)
    let bytes = memoryByteCount(for: oracles.problem, outerSize: x.scalarCount, innerSize: y.scalarCount)
    require(
      bytes <= memoryLimit,
      "SABA: its memory needs \(bytes) bytes, above the limit of \(memoryLimit); use larger batches or raise memoryLimit"
    )
    self.v = Tensor.zeros(y.shape)
    let streams = state.streams
    memories = [
      VarianceReductionMemory(blockCount: streams.innerBlockCount, shape: y.shape),  // ∇_y g
      VarianceReductionMemory(blockCount: streams.innerBlockCount, shape: y.shape),  // HVP
      VarianceReductionMemory(blockCount: streams.innerBlockCount, shape: x.shape),  // cross
      VarianceReductionMemory(blockCount: streams.outerBlockCount, shape: y.shape),  // ∇_y f
      VarianceReductionMemory(blockCount: streams.outerBlockCount, shape: x.shape),  // ∇_x f
    ]
  }

  public mutating func step(oracles: Oracles) -> Tensor {
    let innerBatch = state.streams.nextInner()
    let outerBatch = state.streams.nextOuter()
    let (gradientY, hessianV, crossV) = oracles.innerGradientWithProducts(x: x, y: y, v: v, batch: innerBatch?.indices)
    let (outerX, outerY) = oracles.outerGradients(x: x, y: y, batch: outerBatch?.indices)
    let innerBlock = innerBatch?.block ?? 0
    let outerBlock = outerBatch?.block ?? 0
    let wi = state.streams.innerWeight(innerBatch)
    let wo = state.streams.outerWeight(outerBatch)
    let dY = memories[0].direction(for: gradientY, block: innerBlock, weight: wi)
    let dHessian = memories[1].direction(for: hessianV, block: innerBlock, weight: wi)
    let dCross = memories[2].direction(for: crossV, block: innerBlock, weight: wi)
    let dOuterY = memories[3].direction(for: outerY, block: outerBlock, weight: wo)
    let dOuterX = memories[4].direction(for: outerX, block: outerBlock, weight: wo)
    let rho = innerStep.value(at: state.t)
    let directionX = dCross + dOuterX
    state.y = y - rho * dY
    v = v - rho * (dHessian + dOuterY)
    state.x = x - (rho / outerRatio) * directionX
    state.t += 1
    return directionX
  }
}
