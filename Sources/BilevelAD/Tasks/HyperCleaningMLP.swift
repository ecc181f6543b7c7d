import Autodiff

/// Data hyper-cleaning with a tanh network as the inner model: one weight per training
/// sample (x) and the network's parameters as a structure (y).
///
/// ```
/// g(λ, θ) = (1/n) Σ_i σ(λ_i) CE(MLP_θ(a_i), b̃_i) + (r/2) ‖θ‖²
/// f(λ, θ) = (1/m) Σ_j CE(MLP_θ(a'_j), b'_j)
/// ```
/// The same data, splits and corruption as `HyperCleaning` (Franceschi et al., ICML 2017,
/// as in the benchopt bilevel benchmark), with the linear classifier replaced by
/// `TanhMLP`. The inner problem is not convex in θ; the weight decay r makes it locally
/// strongly convex around the minimizers the algorithms track.
public struct HyperCleaningMLP {
  /// The linear task whose data, splits and corruption this one shares.
  public let linear: HyperCleaning
  /// The width of the hidden layer.
  public let hidden: Int
  /// r, the weight decay on all of θ.
  public let regularization: Double
  /// The problem, over x = λ (a `Tensor` of n sample weights) and y = `TanhMLP`.
  public let problem: BilevelProblem

  /// A hyper-cleaning task with a tanh network of `hidden` units.
  ///
  /// - Parameters:
  ///   - data: a labelled dataset (the bundled digits by default in the CLI).
  ///   - hidden: the width of the hidden layer.
  ///   - corruption: the fraction of training labels replaced by random wrong ones.
  ///   - regularization: r.
  ///   - seed: the split's, the corruption's and the initial weights' seed.
  public init(
    data: Dataset, hidden: Int = 16, corruption: Double = 0.5, regularization: Double = 1e-2, seed: UInt64 = 0
  ) {
    require(hidden > 0, "HyperCleaningMLP: hidden must be positive, got \(hidden)")
    let linear = HyperCleaning(data: data, corruption: corruption, regularization: regularization, seed: seed)
    self.linear = linear
    self.hidden = hidden
    self.regularization = regularization
    let (trainFeatures, trainTargets) = (linear.train.features, linear.train.oneHotLabels)
    let (validationFeatures, validationTargets) = (linear.validation.features, linear.validation.oneHotLabels)
    let r = regularization
    problem = BilevelProblem(
      outerSampleCount: linear.validation.sampleCount, innerSampleCount: linear.train.sampleCount,
      outer: { (_: Tensor, network: TanhMLP, batch: [Int]) in
        network.crossEntropy(
          validationFeatures.gathering(rows: batch), targets: validationTargets.gathering(rows: batch)
        )
        .mean()
      },
      inner: { lambda, network, batch in
        let losses = network.crossEntropy(
          trainFeatures.gathering(rows: batch), targets: trainTargets.gathering(rows: batch))
        return (sigmoid(lambda.gathering(rows: batch)) * losses).mean() + (0.5 * r) * dot(network, network)
      })
  }

  /// A freshly initialized network of this task's sizes.
  ///
  /// - Parameter seed: the weights' seed.
  /// - Returns: a network with N(0, 1/fan-in) weights.
  public func initialNetwork(seed: UInt64 = 0) -> TanhMLP {
    TanhMLP(inputs: linear.train.featureCount, hidden: hidden, classes: linear.train.classCount, seed: seed)
  }

  /// The network trained on the (weighted) training set: the inner problem solved by
  /// gradient descent with Barzilai-Borwein steps from `initialNetwork`.
  ///
  /// - Parameters:
  ///   - lambda: the sample weights' logits; zeros (all weights ½) by default.
  ///   - cleanLabels: train on the uncorrupted labels instead (the reference).
  ///   - iterations: the most gradient steps.
  /// - Returns: the network and whether ‖∇_θ g‖ ≤ 1e-6.
  public func fitNetwork(lambda: Tensor? = nil, cleanLabels: Bool = false, iterations: Int = 300) -> (
    network: TanhMLP, converged: Bool
  ) {
    let train = linear.train
    let targets =
      cleanLabels
      ? Dataset(features: train.features, labels: linear.cleanTrainLabels, classCount: train.classCount).oneHotLabels
      : train.oneHotLabels
    let weights = sigmoid(lambda ?? Tensor.zeros([train.sampleCount]))
    let r = regularization
    let features = train.features
    let fit = BilevelProblem(
      outer: { (_: Tensor, network: TanhMLP) in network.b2.sum() },
      inner: { _, network in
        (weights * network.crossEntropy(features, targets: targets)).mean() + (0.5 * r) * dot(network, network)
      })
    let solution = fit.solveInner(
      x: Tensor(0), y0: initialNetwork(), tolerance: 1e-6, maxIterations: iterations, method: .gradientDescent)
    return (solution.solution, solution.converged)
  }

  /// The fraction of test samples the network classifies correctly.
  ///
  /// - Parameter network: the parameters.
  /// - Returns: the test accuracy in [0, 1].
  public func testAccuracy(_ network: TanhMLP) -> Double {
    linear.test.accuracy(scores: network.logits(linear.test.features))
  }

  /// The driver's evaluation: F and ‖∇F‖ (when asked; an inner solve and a CG solve per
  /// record) and the test accuracy.
  ///
  /// - Parameter exactHypergradient: whether to compute F and ‖∇F‖.
  /// - Returns: an evaluator for `solve`.
  public func evaluator(exactHypergradient: Bool = true) -> (Tensor, TanhMLP) -> Evaluation {
    let problem = self.problem
    return { lambda, network in
      var evaluation = exactHypergradient ? problem.evaluate(x: lambda, y: network) : Evaluation()
      evaluation.metrics["test accuracy"] = testAccuracy(network)
      return evaluation
    }
  }
}
