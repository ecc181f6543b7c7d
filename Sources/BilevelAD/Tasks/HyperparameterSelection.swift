import Autodiff

/// Hyper-parameter selection for logistic regression with one L2 weight per feature.
///
/// ```
/// g(λ, θ) = (1/n) Σ_i ℓ(θ; a_i, y_i) + ½ Σ_j exp(λ_j) w_j²     θ = (w, b), intercept b unpenalized
/// f(λ, θ) = (1/m) Σ_j ℓ(θ; a'_j, y'_j)                          validation loss
/// ℓ(θ; a, y) = softplus(aᵀw + b) − y (aᵀw + b),  y ∈ {0, 1}
/// ```
/// The zeroth-order baseline is a grid search over one shared weight exp(λ) for every
/// feature, one inner solve per grid point.
///
/// References: F. Pedregosa, "Hyperparameter optimization with approximate gradient",
/// ICML 2016; M. Dagréou et al., NeurIPS 2022 (the benchmark's L2-regularized logistic
/// regression task).
public struct HyperparameterSelection {
  /// The training set (standardized).
  public let train: Dataset
  /// The validation set.
  public let validation: Dataset
  /// The test set.
  public let test: Dataset
  /// The finite-sum bilevel problem in (λ, θ).
  public let problem: BilevelProblem

  /// Builds the task from a binary data set.
  ///
  /// - Parameters:
  ///   - data: labels in {0, 1}.
  ///   - trainSize: n; validation and test take halves of the rest unless given.
  ///   - validationSize: m.
  ///   - seed: the seed of the split.
  public init(data: Dataset, trainSize: Int? = nil, validationSize: Int? = nil, seed: UInt64 = 0) {
    require(data.classCount == 2, "HyperparameterSelection: needs a binary data set, got \(data.classCount) classes")
    let n = trainSize ?? data.sampleCount / 2
    let m = validationSize ?? (data.sampleCount - n) / 2
    require(
      n > 0 && m > 0 && n + m < data.sampleCount,
      "HyperparameterSelection: train \(n) and validation \(m) sizes do not fit \(data.sampleCount) samples")
    let parts = data.split(sizes: [n, m, data.sampleCount - n - m], seed: seed)
    let (mean, deviation) = parts[0].featureStatistics()
    train = parts[0].standardized(mean: mean, deviation: deviation)
    validation = parts[1].standardized(mean: mean, deviation: deviation)
    test = parts[2].standardized(mean: mean, deviation: deviation)
    let (trainX, trainY) = (train.features, train.binaryLabels)
    let (validX, validY) = (validation.features, validation.binaryLabels)
    let d = train.featureCount
    problem = BilevelProblem(
      outerSampleCount: validation.sampleCount, innerSampleCount: train.sampleCount,
      outer: { _, theta, batch in
        HyperparameterSelection.logisticLoss(
          theta, features: validX.gathering(rows: batch), labels: validY.gathering(rows: batch)
        ).mean()
      },
      inner: { lambda, theta, batch in
        let w = theta.slicing(0..<d)
        return HyperparameterSelection.logisticLoss(
          theta, features: trainX.gathering(rows: batch), labels: trainY.gathering(rows: batch)
        ).mean() + 0.5 * (exp(lambda) * w.squared()).sum()
      })
  }

  /// The logistic loss of each sample for θ = (w, b).
  static func logisticLoss(_ theta: Tensor, features: Tensor, labels: Tensor) -> Tensor {
    let d = features.shape[1]
    let scores = matmul(features, theta.slicing(0..<d)) + theta.slicing(d..<(d + 1))
    return softplus(scores) - labels * scores
  }

  /// The shape of θ: [features + 1].
  public var innerShape: TensorShape { [train.featureCount + 1] }
  /// The shape of λ: [features].
  public var outerShape: TensorShape { [train.featureCount] }

  /// Mean logistic loss and accuracy of θ on a data set.
  public func lossAndAccuracy(_ theta: Tensor, on data: Dataset) -> (loss: Double, accuracy: Double) {
    let d = data.featureCount
    let scores = matmul(data.features, theta.slicing(0..<d)) + theta.slicing(d..<(d + 1))
    let loss = HyperparameterSelection.logisticLoss(theta, features: data.features, labels: data.binaryLabels).mean()
      .scalar
    return (loss, data.accuracy(scores: scores))
  }

  /// The inner Hessian at (λ, θ) as a diagonal plus a low-rank term, for
  /// `woodburyHypergradient`:
  ///
  /// ```
  /// ∇²_θθ g = Ãᵀ D Ã / n + diag(e^λ, 0),   Ã = [A 1],  D = diag(σ(s)(1 − σ(s))),  s = Ã θ
  ///         = diag(e^λ, 1) + U V,   U = [Ãᵀ D / n, −e_b],  V = [Ã; e_bᵀ]
  /// ```
  /// (the unpenalized intercept's zero is written as 1 − 1 so that the diagonal is
  /// invertible). Rank n + 1.
  public func woodburyStructure(lambda: Tensor, theta: Tensor) -> WoodburyStructure {
    let n = train.sampleCount
    let d = train.featureCount
    let augmented = train.features.concatenated(with: Tensor.ones([n, 1]), alongAxis: 1)  // n × (d + 1)
    let scores = matmul(augmented, withoutDerivative(at: theta))
    let p = sigmoid(scores)
    let curvature = (p * (1 - p)).scalars
    let interceptColumn = Tensor(shape: [d + 1, 1], scalars: Array(repeating: 0, count: d) + [-1])
    let u = (augmented.transposed() * Tensor(curvature).reshaped(to: [1, n]) / Double(n))
      .concatenated(with: interceptColumn, alongAxis: 1)
    let v = augmented.concatenated(with: interceptColumn.transposed() * -1, alongAxis: 0)
    return WoodburyStructure(diagonal: exp(withoutDerivative(at: lambda)).concatenated(with: Tensor([1])), u: u, v: v)
  }

  /// The best single shared regularization weight on a log grid, judged by validation loss.
  ///
  /// - Parameters:
  ///   - logWeights: the grid of log-weights λ (every feature gets exp(λ)).
  /// - Returns: the best λ, its θ, its validation loss, and the number of inner solves.
  public func gridSearch(logWeights: [Double] = stride(from: -12.0, through: 4.0, by: 0.5).map { $0 })
    -> (logWeight: Double, theta: Tensor, validationLoss: Double, innerSolves: Int)
  {
    var best: (Double, Tensor, Double)? = nil
    var warm = Tensor.zeros(innerShape)
    for lambda in logWeights {
      let x = Tensor(shape: outerShape, repeating: lambda)
      let inner = problem.solveInner(x: x, y0: warm, tolerance: 1e-10, maxIterations: 200)
      warm = inner.solution
      let loss = problem.outer(x, inner.solution).scalar
      if best == nil || loss < best!.2 { best = (lambda, inner.solution, loss) }
    }
    return (best!.0, best!.1, best!.2, logWeights.count)
  }

  /// An evaluator for the driver: F(λ), ‖∇F‖ by implicit CG, and test and validation
  /// loss and accuracy of the current θ.
  public func evaluator() -> (Tensor, Tensor) -> Evaluation {
    let problem = self.problem
    return { lambda, theta in
      var evaluation = problem.evaluate(x: lambda, y: theta)
      let (testLoss, testAccuracy) = lossAndAccuracy(theta, on: test)
      let (_, validationAccuracy) = lossAndAccuracy(theta, on: validation)
      evaluation.metrics["test loss"] = testLoss
      evaluation.metrics["test accuracy"] = testAccuracy
      evaluation.metrics["validation accuracy"] = validationAccuracy
      return evaluation
    }
  }
}
