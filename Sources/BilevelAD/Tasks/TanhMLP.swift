import Autodiff

/// The parameters of a one-hidden-layer tanh network, a `TensorStructure` written the way
/// the Guide shows users: one line per tensor.
///
/// ```
/// logits(X) = tanh(X W₁ + b₁) W₂ + b₂
/// ```
public struct TanhMLP: TensorStructure, Sendable {
  /// W₁, inputs × hidden.
  public var w1: Tensor
  /// b₁, hidden.
  public var b1: Tensor
  /// W₂, hidden × classes.
  public var w2: Tensor
  /// b₂, classes.
  public var b2: Tensor

  public mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    visit(&w1)
    visit(&b1)
    visit(&w2)
    visit(&b2)
  }

  /// A network with the given weights.
  ///
  /// - Parameters:
  ///   - w1: inputs × hidden.
  ///   - b1: hidden.
  ///   - w2: hidden × classes.
  ///   - b2: classes.
  public init(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) {
    (self.w1, self.b1, self.w2, self.b2) = (w1, b1, w2, b2)
  }

  /// A network with Glorot-scaled normal weights, N(0, 1/fan-in), and zero biases.
  ///
  /// - Parameters:
  ///   - inputs: the number of input features.
  ///   - hidden: the width of the hidden layer.
  ///   - classes: the number of outputs.
  ///   - seed: the weights' seed.
  public init(inputs: Int, hidden: Int, classes: Int, seed: UInt64) {
    require(
      inputs > 0 && hidden > 0 && classes > 0, "TanhMLP: sizes must be positive, got \(inputs)-\(hidden)-\(classes)")
    self.init(
      w1: Tensor(randomNormal: [inputs, hidden], seed: seed) / Double(inputs).squareRoot(), b1: Tensor.zeros([hidden]),
      w2: Tensor(randomNormal: [hidden, classes], seed: seed &+ 1) / Double(hidden).squareRoot(),
      b2: Tensor.zeros([classes]))
  }

  /// The network's outputs for the rows of `features`.
  ///
  /// - Parameter features: samples × inputs.
  /// - Returns: samples × classes.
  public func logits(_ features: Tensor) -> Tensor {
    matmul(tanh(matmul(features, w1) + b1), w2) + b2
  }

  /// The softmax cross-entropy of each row: logSumExp(logits) − ⟨logits, target⟩.
  ///
  /// - Parameters:
  ///   - features: samples × inputs.
  ///   - targets: samples × classes, one-hot.
  /// - Returns: one loss per sample.
  public func crossEntropy(_ features: Tensor, targets: Tensor) -> Tensor {
    let z = logits(features)
    return z.logSumExp(squeezingAxes: 1) - (z * targets).sum(squeezingAxes: 1)
  }
}
