import Autodiff

/// How a stochastic algorithm draws its mini-batches.
public struct StochasticSettings: Sendable, Equatable {
  /// B, the same for inner and outer samples (clamped to each sample count); nil for full
  /// batches, which turns the algorithm into its deterministic counterpart.
  public var batchSize: Int?
  /// How batches are drawn.
  public var sampling: SamplingScheme
  /// The seed of both samplers (and of any other randomness of the algorithm).
  public var seed: UInt64
  /// How the algorithms with a randomly truncated Neumann series (BSA, TTSA, MRBO,
  /// SUSTAIN, MSTSA, ALSET, SBFW) truncate it.
  public var neumannTruncation: NeumannTruncation

  /// Mini-batches of `batchSize` (64 by default, as in the benchopt bilevel benchmark).
  ///
  /// - Parameters:
  ///   - batchSize: B, or nil for full batches.
  ///   - sampling: how batches are drawn.
  ///   - seed: the seed of the samplers and of the truncation depths.
  ///   - neumannTruncation: the papers' random depth (default), or every term.
  public init(
    batchSize: Int? = 64, sampling: SamplingScheme = .fixedBlocks, seed: UInt64 = 0,
    neumannTruncation: NeumannTruncation = .randomized
  ) {
    require(batchSize.map { $0 >= 1 } ?? true, "StochasticSettings: batch size must be positive")
    self.batchSize = batchSize
    self.sampling = sampling
    self.seed = seed
    self.neumannTruncation = neumannTruncation
  }
}

/// How a truncated Neumann estimate of w = [∇²_yy g]⁻¹ b is formed from N terms with step η.
public enum NeumannTruncation: Sendable, Equatable {
  /// The papers' estimate (Ghadimi and Wang 2018): a depth p drawn uniformly from
  /// {0, …, N − 1}, w = N η (I − η H)^p b, unbiased for the N-term series at p products.
  case randomized
  /// The N-term series itself, w = η Σ_{q<N} (I − η H)^q b (the randomized estimate's
  /// mean) at N − 1 products: with full batches the algorithm is then deterministic and
  /// converges to the exact stationary point as N grows.
  case expected
}

/// The inner and outer mini-batch streams of one run.
///
/// For a problem without finite-sum structure, or with `batchSize == nil`, every batch
/// is nil: the oracles then use the full objectives.
struct BatchStreams {
  private(set) var inner: MinibatchSampler?
  private(set) var outer: MinibatchSampler?

  /// Full batches on both levels (the state of an algorithm before `start`).
  init() {
    inner = nil
    outer = nil
  }

  init(problem: BilevelProblem, settings: StochasticSettings) {
    guard let finiteSum = problem.finiteSum, let size = settings.batchSize else {
      inner = nil
      outer = nil
      return
    }
    inner = MinibatchSampler(
      sampleCount: finiteSum.innerSampleCount, batchSize: min(size, finiteSum.innerSampleCount),
      scheme: settings.sampling, seed: settings.seed)
    outer = MinibatchSampler(
      sampleCount: finiteSum.outerSampleCount, batchSize: min(size, finiteSum.outerSampleCount),
      scheme: settings.sampling, seed: settings.seed &+ 0x9E37_79B9)
  }

  /// Whether batches are mini-batches (false: full batches).
  var isStochastic: Bool { inner != nil }

  /// The next inner batch (nil: the full inner objective).
  mutating func nextInner() -> Batch? { inner?.next() }

  /// The next outer batch (nil: the full outer objective).
  mutating func nextOuter() -> Batch? { outer?.next() }

  /// The number of inner blocks (1 for full batches).
  var innerBlockCount: Int { inner?.blockCount ?? 1 }
  /// The number of outer blocks (1 for full batches).
  var outerBlockCount: Int { outer?.blockCount ?? 1 }
  /// The weight |block| / n of an inner batch in the full mean (1 for full batches).
  func innerWeight(_ batch: Batch?) -> Double {
    guard let batch, let block = batch.block, let inner else { return 1 }
    return inner.blockWeight(block)
  }
  /// The weight |block| / m of an outer batch in the full mean (1 for full batches).
  func outerWeight(_ batch: Batch?) -> Double {
    guard let batch, let block = batch.block, let outer else { return 1 }
    return outer.blockWeight(block)
  }
}
