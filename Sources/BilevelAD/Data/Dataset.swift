import Autodiff

/// A labelled classification data set: a feature matrix and integer class labels.
public struct Dataset: Sendable {
  /// Features, shape [samples, features].
  public var features: Tensor
  /// Class labels in 0..<classCount, one per sample.
  public var labels: [Int]
  /// The number of classes.
  public var classCount: Int

  /// A data set from features and labels.
  ///
  /// - Precondition: one label per row, each in 0..<classCount.
  public init(features: Tensor, labels: [Int], classCount: Int) {
    require(features.rank == 2, "Dataset: features must be a matrix, got shape \(features.shape)")
    require(
      features.shape[0] == labels.count,
      "Dataset: \(features.shape[0]) feature rows but \(labels.count) labels")
    require(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "Dataset: labels must lie in 0..<\(classCount)")
    self.features = withoutDerivative(at: features)
    self.labels = labels
    self.classCount = classCount
  }

  /// The number of samples.
  public var sampleCount: Int { labels.count }
  /// The number of features.
  public var featureCount: Int { features.shape[1] }

  /// The samples at `indices`, in that order.
  public func subset(_ indices: [Int]) -> Dataset {
    Dataset(features: features.gathering(rows: indices), labels: indices.map { labels[$0] }, classCount: classCount)
  }

  /// The labels as a one-hot matrix, shape [samples, classCount].
  public var oneHotLabels: Tensor {
    var values = [Double](repeating: 0, count: sampleCount * classCount)
    for (i, label) in labels.enumerated() { values[i * classCount + label] = 1 }
    return Tensor(shape: [sampleCount, classCount], scalars: values)
  }

  /// The labels as a 0/1 column for binary problems, shape [samples].
  public var binaryLabels: Tensor { Tensor(labels.map(Double.init)) }

  /// Splits the samples at random into parts of the given sizes (the last part takes
  /// the rest when sizes sum to less than the count).
  ///
  /// - Precondition: the sizes are non-negative and sum to at most `sampleCount`.
  public func split(sizes: [Int], seed: UInt64) -> [Dataset] {
    require(
      sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) <= sampleCount,
      "Dataset.split: sizes \(sizes) exceed the \(sampleCount) samples")
    var generator = SeededRandomNumberGenerator(seed: seed)
    let order = Array(0..<sampleCount).shuffled(using: &generator)
    var parts: [Dataset] = []
    var start = 0
    for size in sizes {
      parts.append(subset(Array(order[start..<(start + size)])))
      start += size
    }
    return parts
  }

  /// The per-feature mean and standard deviation (1 where a feature is constant).
  public func featureStatistics() -> (mean: Tensor, deviation: Tensor) {
    let mean = features.mean(squeezingAxes: 0)
    let variance = (features - mean).squared().mean(squeezingAxes: 0)
    let deviation = Tensor(shape: variance.shape, scalars: variance.scalars.map { $0 > 1e-24 ? $0.squareRoot() : 1 })
    return (mean, deviation)
  }

  /// Features shifted and scaled by the given statistics (mean 0, variance 1 when they
  /// are this set's own).
  public func standardized(mean: Tensor, deviation: Tensor) -> Dataset {
    Dataset(features: (features - mean) / deviation, labels: labels, classCount: classCount)
  }

  /// A copy in which a fraction of the labels is replaced by a different class drawn
  /// uniformly at random, as in data hyper-cleaning benchmarks.
  ///
  /// - Parameters:
  ///   - fraction: the share of samples to corrupt, in [0, 1].
  ///   - seed: the seed of the corruption.
  /// - Returns: the corrupted set and the indices whose labels were changed.
  public func corruptingLabels(fraction: Double, seed: UInt64) -> (dataset: Dataset, corrupted: [Int]) {
    require(fraction >= 0 && fraction <= 1, "corruptingLabels: fraction must lie in [0, 1], got \(fraction)")
    require(classCount >= 2, "corruptingLabels: needs at least two classes")
    var generator = SeededRandomNumberGenerator(seed: seed)
    let count = Int((fraction * Double(sampleCount)).rounded())
    let chosen = Array(Array(0..<sampleCount).shuffled(using: &generator).prefix(count)).sorted()
    var labels = self.labels
    for i in chosen {
      let offset = Int.random(in: 1..<classCount, using: &generator)
      labels[i] = (labels[i] + offset) % classCount
    }
    return (Dataset(features: features, labels: labels, classCount: classCount), chosen)
  }

  /// The share of samples whose arg-max score equals the label.
  ///
  /// - Parameter scores: shape [samples, classCount] (or [samples] for a binary problem,
  ///   where a positive score predicts class 1).
  public func accuracy(scores: Tensor) -> Double {
    let values = scores.scalars
    var correct = 0
    if scores.rank == 1 {
      for (i, label) in labels.enumerated() where (values[i] > 0 ? 1 : 0) == label { correct += 1 }
    } else {
      let classes = scores.shape[1]
      for (i, label) in labels.enumerated() {
        let row = values[(i * classes)..<((i + 1) * classes)]
        if let best = row.indices.max(by: { row[$0] < row[$1] }), best - i * classes == label { correct += 1 }
      }
    }
    return sampleCount == 0 ? 0 : Double(correct) / Double(sampleCount)
  }
}

extension Dataset {
  /// A synthetic classification set of the given shape, the same for the same seed: the
  /// features are standard normal and the labels the arg-max of a random linear model plus
  /// Gaussian noise (so a linear classifier can learn them, but not perfectly).
  ///
  /// The benchmark's large data sets (ijcnn1 49990 × 22, covtype 581012 × 54, MNIST
  /// 60000 × 784) cannot be downloaded here; sets of their shapes from this generator serve
  /// for scaling runs.
  ///
  /// - Parameters:
  ///   - samples: the rows.
  ///   - features: the columns.
  ///   - classes: the number of classes (at least 2).
  ///   - noise: the standard deviation of the label noise relative to the scores'.
  ///   - seed: the seed.
  public static func synthetic(samples: Int, features: Int, classes: Int, noise: Double = 0.5, seed: UInt64) -> Dataset
  {
    require(
      samples > 0 && features > 0 && classes >= 2,
      "Dataset.synthetic: invalid shape \(samples) × \(features), \(classes) classes")
    let x = Tensor(randomNormal: [samples, features], seed: seed)
    let weights = Tensor(randomNormal: [features, classes], seed: seed &+ 1) / Double(features).squareRoot()
    let scores = (matmul(x, weights) + noise * Tensor(randomNormal: [samples, classes], seed: seed &+ 2)).scalars
    let labels = (0..<samples).map { i -> Int in
      let row = scores[(i * classes)..<((i + 1) * classes)]
      return row.indices.max(by: { row[$0] < row[$1] })! - i * classes
    }
    return Dataset(features: x, labels: labels, classCount: classes)
  }
}
