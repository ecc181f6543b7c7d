import BilevelAD
import Testing

@Suite("Mini-batch samplers")
struct MinibatchSamplerTests {
  @Test("the same seed gives the same batches", arguments: SamplingScheme.allCases)
  func determinism(scheme: SamplingScheme) {
    var a = MinibatchSampler(sampleCount: 37, batchSize: 5, scheme: scheme, seed: 9)
    var b = MinibatchSampler(sampleCount: 37, batchSize: 5, scheme: scheme, seed: 9)
    var c = MinibatchSampler(sampleCount: 37, batchSize: 5, scheme: scheme, seed: 10)
    let first = (0..<20).map { _ in a.next() }
    #expect(first == (0..<20).map { _ in b.next() })
    #expect(first != (0..<20).map { _ in c.next() })
    #expect(first.allSatisfy { $0.indices.allSatisfy { (0..<37).contains($0) } })
  }

  @Test("shuffled epochs visit every sample exactly once per epoch")
  func epochs() {
    var sampler = MinibatchSampler(sampleCount: 37, batchSize: 5, scheme: .shuffledEpochs, seed: 1)
    for _ in 0..<3 {
      let epoch = (0..<8).flatMap { _ in sampler.next().indices }  // 7 batches of 5, one of 2
      #expect(epoch.sorted() == Array(0..<37))
    }
  }

  @Test("fixed blocks partition the samples, are visited once per epoch and carry their weight")
  func blocks() {
    var sampler = MinibatchSampler(sampleCount: 37, batchSize: 5, scheme: .fixedBlocks, seed: 1)
    #expect(sampler.blockCount == 8)
    let epoch = (0..<8).map { _ in sampler.next() }
    #expect(Set(epoch.compactMap(\.block)) == Set(0..<8))
    #expect(epoch.flatMap(\.indices).sorted() == Array(0..<37))
    for batch in epoch {
      #expect(batch.indices == sampler.blockIndices(batch.block!))
      #expect(sampler.blockWeight(batch.block!) == Double(batch.indices.count) / 37)
    }
  }

  @Test("sampling with replacement draws full batches of any index")
  func replacement() {
    var sampler = MinibatchSampler(sampleCount: 4, batchSize: 3, scheme: .withReplacement, seed: 2)
    let drawn = (0..<200).flatMap { _ in sampler.next().indices }
    #expect(drawn.count == 600)
    #expect(Set(drawn) == Set(0..<4))
  }

  @Test("a batch larger than the data is a programming error")
  func tooLarge() async {
    await #expect(processExitsWith: .failure) {
      _ = MinibatchSampler(sampleCount: 4, batchSize: 5, seed: 0)
    }
  }
}
