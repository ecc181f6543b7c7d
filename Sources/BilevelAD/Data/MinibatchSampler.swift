/// How mini-batches of sample indices are drawn.
public enum SamplingScheme: String, Sendable, CaseIterable, Codable {
  /// Each index drawn independently and uniformly, with replacement.
  case withReplacement
  /// A fresh random permutation every epoch, cut into consecutive batches (the last
  /// batch of an epoch may be shorter).
  case shuffledEpochs
  /// The samples are cut once into fixed blocks of `batchSize` consecutive indices (the
  /// last block holds the remainder and may be shorter), visited in a fresh random order
  /// each epoch. Every batch has a block id, which variance-reduced methods use to index
  /// their memory. (The benchopt bilevel benchmark's sampler, except that its last block
  /// is the last `batchSize` samples, overlapping the one before; a partition keeps the
  /// memory average exactly the full mean.)
  case fixedBlocks
}

/// A mini-batch: its sample indices and, for `fixedBlocks`, its block id.
public struct Batch: Sendable, Equatable {
  /// The sample indices.
  public var indices: [Int]
  /// The block id under `fixedBlocks`, else nil.
  public var block: Int?
}

/// A seeded source of mini-batches of indices in 0..<sampleCount.
///
/// The same seed gives the same sequence of batches.
public struct MinibatchSampler: Sendable {
  /// n, the number of samples.
  public let sampleCount: Int
  /// B, the batch size (at most n).
  public let batchSize: Int
  /// The scheme.
  public let scheme: SamplingScheme
  private var generator: SeededRandomNumberGenerator
  private var order: [Int] = []
  private var position = 0

  /// A sampler over `sampleCount` samples.
  ///
  /// - Precondition: 1 ≤ batchSize ≤ sampleCount.
  public init(sampleCount: Int, batchSize: Int, scheme: SamplingScheme = .fixedBlocks, seed: UInt64) {
    require(sampleCount >= 1, "MinibatchSampler: sampleCount must be positive, got \(sampleCount)")
    require(
      batchSize >= 1 && batchSize <= sampleCount,
      "MinibatchSampler: batch size \(batchSize) must lie in 1...\(sampleCount)")
    self.sampleCount = sampleCount
    self.batchSize = batchSize
    self.scheme = scheme
    self.generator = SeededRandomNumberGenerator(seed: seed)
  }

  /// The number of fixed blocks: ⌈n / B⌉.
  public var blockCount: Int { (sampleCount + batchSize - 1) / batchSize }

  /// The indices of fixed block `block`: B consecutive samples (fewer in the last block).
  public func blockIndices(_ block: Int) -> [Int] {
    let start = block * batchSize
    return Array(start..<min(start + batchSize, sampleCount))
  }

  /// The weight |block| / n of a fixed block in the full mean.
  public func blockWeight(_ block: Int) -> Double {
    Double(blockIndices(block).count) / Double(sampleCount)
  }

  /// The next mini-batch.
  public mutating func next() -> Batch {
    switch scheme {
    case .withReplacement:
      return Batch(indices: (0..<batchSize).map { _ in Int.random(in: 0..<sampleCount, using: &generator) }, block: nil)
    case .shuffledEpochs:
      if position >= order.count {
        order = Array(0..<sampleCount).shuffled(using: &generator)
        position = 0
      }
      let end = min(position + batchSize, order.count)
      defer { position = end }
      return Batch(indices: Array(order[position..<end]), block: nil)
    case .fixedBlocks:
      if position >= order.count {
        order = Array(0..<blockCount).shuffled(using: &generator)
        position = 0
      }
      let block = order[position]
      position += 1
      return Batch(indices: blockIndices(block), block: block)
    }
  }
}
