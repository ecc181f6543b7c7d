import Autodiff

/// Data hyper-cleaning: learn one weight per training sample so that a classifier trained
/// on corrupted labels does well on clean validation data.
///
/// ```
/// g(λ, θ) = (1/n) Σ_i σ(λ_i) ℓ(θ; a_i, ỹ_i) + (r/2) ‖θ‖²     (training set, corrupted labels)
/// f(λ, θ) = (1/m) Σ_j ℓ(θ; a'_j, y'_j)                        (validation set, clean labels)
/// ℓ(θ; a, y) = logSumExp(aᵀθ) − (aᵀθ)_y                       (multinomial logistic loss)
/// ```
/// θ has shape [features + 1, classes] (an intercept column of ones is appended to the
/// standardized features). A sample whose label was corrupted should end with σ(λ_i) ≈ 0.
///
/// References: A. Shaban et al., AISTATS 2019 (data hyper-cleaning); M. Dagréou et al.,
/// "A framework for bilevel optimization that enables stochastic and global variance
/// reduction algorithms", NeurIPS 2022 (the benchmark's formulation).
public struct HyperCleaning {
  /// The training set with corrupted labels (features standardized, intercept appended).
  public let train: Dataset
  /// The training set's original labels, for reference.
  public let cleanTrainLabels: [Int]
  /// The validation set (clean labels).
  public let validation: Dataset
  /// The test set (clean labels).
  public let test: Dataset
  /// The indices of the training samples whose labels were corrupted.
  public let corrupted: [Int]
  /// r, the ridge weight of the inner problem.
  public let regularization: Double
  /// The finite-sum bilevel problem in (λ, θ).
  public let problem: BilevelProblem

  /// Builds the task from a labelled data set.
  ///
  /// - Parameters:
  ///   - data: the full data set (raw features).
  ///   - trainSize: n; validation and test take halves of the rest unless given.
  ///   - validationSize: m.
  ///   - corruption: the fraction p of training labels replaced by another class.
  ///   - regularization: r.
  ///   - seed: the seed of the split and the corruption.
  /// - Precondition: the sizes fit the data and p lies in [0, 1].
  public init(
    data: Dataset, trainSize: Int? = nil, validationSize: Int? = nil, corruption: Double = 0.5,
    regularization: Double = 1e-3, seed: UInt64 = 0
  ) {
    let n = trainSize ?? data.sampleCount / 2
    let m = validationSize ?? (data.sampleCount - n) / 2
    require(
      n > 0 && m > 0 && n + m < data.sampleCount,
      "HyperCleaning: train \(n) and validation \(m) sizes do not fit \(data.sampleCount) samples")
    let parts = data.split(sizes: [n, m, data.sampleCount - n - m], seed: seed)
    let (mean, deviation) = parts[0].featureStatistics()
    func prepare(_ d: Dataset) -> Dataset {
      let standardized = d.standardized(mean: mean, deviation: deviation)
      let ones = Tensor.ones([d.sampleCount, 1])
      return Dataset(
        features: standardized.features.concatenated(with: ones, alongAxis: 1), labels: d.labels,
        classCount: d.classCount)
    }
    let cleanTrain = prepare(parts[0])
    let (corruptedTrain, corruptedIndices) = cleanTrain.corruptingLabels(fraction: corruption, seed: seed &+ 1)
    self.train = corruptedTrain
    self.cleanTrainLabels = cleanTrain.labels
    self.validation = prepare(parts[1])
    self.test = prepare(parts[2])
    self.corrupted = corruptedIndices
    self.regularization = regularization

    let trainFeatures = corruptedTrain.features
    let trainTargets = corruptedTrain.oneHotLabels
    let validationFeatures = validation.features
    let validationTargets = validation.oneHotLabels
    let r = regularization
    self.problem = BilevelProblem(
      outerSampleCount: validation.sampleCount, innerSampleCount: corruptedTrain.sampleCount,
      outer: { _, theta, batch in
        HyperCleaning.crossEntropy(
          theta, features: validationFeatures.gathering(rows: batch), targets: validationTargets.gathering(rows: batch)
        ).mean()
      },
      inner: { lambda, theta, batch in
        let losses = HyperCleaning.crossEntropy(
          theta, features: trainFeatures.gathering(rows: batch), targets: trainTargets.gathering(rows: batch))
        return (sigmoid(lambda.gathering(rows: batch)) * losses).mean() + (0.5 * r) * theta.squared().sum()
      })
  }

  /// The multinomial logistic loss of each sample: logSumExp(Aθ)_i − (Aθ)_{i, y_i}.
  static func crossEntropy(_ theta: Tensor, features: Tensor, targets: Tensor) -> Tensor {
    let logits = matmul(features, theta)
    return logits.logSumExp(squeezingAxes: 1) - (logits * targets).sum(squeezingAxes: 1)
  }

  /// The shape of θ: [features + 1, classes].
  public var innerShape: TensorShape { [train.featureCount, train.classCount] }
  /// The shape of λ: [training samples].
  public var outerShape: TensorShape { [train.sampleCount] }

  /// The test accuracy of the linear classifier θ.
  public func testAccuracy(_ theta: Tensor) -> Double { test.accuracy(scores: matmul(test.features, theta)) }

  /// The validation accuracy of θ.
  public func validationAccuracy(_ theta: Tensor) -> Double {
    validation.accuracy(scores: matmul(validation.features, theta))
  }

  /// The classifier minimizing the inner objective with weights σ(λ) (all weights 1 when
  /// λ is nil), on the corrupted labels or, with `cleanLabels`, the original ones.
  ///
  /// - Returns: θ and whether the solve converged.
  public func fitClassifier(lambda: Tensor? = nil, cleanLabels: Bool = false) -> (theta: Tensor, converged: Bool) {
    let data =
      cleanLabels
      ? Dataset(features: train.features, labels: cleanTrainLabels, classCount: train.classCount) : train
    let targets = data.oneHotLabels
    let weights = lambda.map(sigmoid) ?? Tensor.ones([data.sampleCount])
    let r = regularization
    let features = data.features
    let problem = BilevelProblem(
      outer: { _, theta in theta.sum() },
      inner: { _, theta in
        (weights * HyperCleaning.crossEntropy(theta, features: features, targets: targets)).mean()
          + (0.5 * r) * theta.squared().sum()
      })
    let solution = problem.solveInner(x: Tensor(0), y0: Tensor.zeros(innerShape), tolerance: 1e-8, maxIterations: 100)
    return (solution.solution, solution.converged)
  }

  /// An evaluator for the driver: F(λ) with θ solved tightly, ‖∇F‖ by implicit CG,
  /// and the test and validation accuracy of the algorithm's current θ.
  public func evaluator(exactHypergradient: Bool = true) -> (Tensor, Tensor) -> Evaluation {
    let problem = self.problem
    return { lambda, theta in
      var evaluation = exactHypergradient ? problem.evaluate(x: lambda, y: theta) : Evaluation()
      evaluation.metrics["test accuracy"] = testAccuracy(theta)
      evaluation.metrics["validation accuracy"] = validationAccuracy(theta)
      return evaluation
    }
  }
}
