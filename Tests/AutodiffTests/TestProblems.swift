import Autodiff
import Foundation
import TestSupport
import Testing

// Shared scalar objectives for the HVP, closed-form, higher-order and
// concurrency suites.
//
// Every objective takes ONE flat parameter vector. Data (features, labels)
// is regenerated from fixed seeds on each call, so objectives are pure
// functions and the structs holding them are trivially Sendable.
//
// Slicing a flat parameter vector (used by the MLP and Rosenbrock)
// ----------------------------------------------------------------
// The API has no slicing operator, so `slice(_:_:shape:)` reshapes the
// rank-1 vector of length n into an n x 1 column matrix, selects the wanted
// rows with `gathering(rows:)` (a differentiable row gather whose pullback
// scatters the cotangent back into those rows) and reshapes the result to the
// target shape. E.g. the first 12 entries of theta as a 3 x 4 matrix:
//
//     theta.reshaped(to: [21, 1]).gathering(rows: Array(0..<12)).reshaped(to: [3, 4])

/// A scalar objective on a flat parameter vector, plus its test point and
/// test direction.
struct Objective: Sendable, CustomTestStringConvertible {
  let name: String
  let dimension: Int
  let point: @Sendable () -> Tensor
  let direction: @Sendable () -> Tensor
  let f: @Sendable (Tensor) -> Tensor

  var testDescription: String { name }
}

/// Rows `range` of a rank-1 vector, reshaped to `shape` (see the file comment).
func slice(_ vector: Tensor, _ range: Range<Int>, shape: [Int]) -> Tensor {
  let column = vector.reshaped(to: [vector.scalarCount, 1])
  return column.gathering(rows: Array(range)).reshaped(to: shape)
}

// MARK: - Logistic regression with L2

/// `mean(softplus(X w) - y * (X w)) + 0.05 * ||w||^2` on 6 examples with 3
/// features.
enum LogisticRegression {
  static let examples = 6
  static let features = 3
  static let l2 = 0.05

  static func inputs() -> Tensor {
    Tensor(randomNormal: [examples, features], seed: 101)
  }

  static func labels() -> Tensor {
    mapScalars(Tensor(randomNormal: [examples], seed: 102)) { $0 > 0 ? 1 : 0 }
  }

  static func loss(_ w: Tensor) -> Tensor {
    let z = matmul(inputs(), w)
    let perExample = softplus(z) - labels() * z
    let penalty = l2 * w.squared().sum()
    return perExample.mean() + penalty
  }

  /// Probabilities sigma(X w), computed in plain Swift.
  static func probabilities(_ w: Tensor) -> [Double] {
    referenceMatVec(inputs(), w).scalars.map(referenceSigmoid)
  }

  /// Analytic gradient X^T (sigma(X w) - y) / n + 2 * 0.05 * w.
  static func analyticGradient(_ w: Tensor) -> Tensor {
    let x = inputs().scalars
    let y = labels().scalars
    let p = probabilities(w)
    let ws = w.scalars
    var g = [Double](repeating: 0, count: features)
    for j in 0..<features {
      for i in 0..<examples {
        g[j] += x[i * features + j] * (p[i] - y[i]) / Double(examples)
      }
      g[j] += 2 * l2 * ws[j]
    }
    return Tensor(shape: [features], scalars: g)
  }

  /// Analytic Hessian X^T diag(p (1 - p)) X / n + 2 * 0.05 * I.
  static func analyticHessian(_ w: Tensor) -> Tensor {
    let x = inputs().scalars
    let p = probabilities(w)
    return makeMatrix(rows: features, cols: features) { a, b in
      var total = 0.0
      for i in 0..<examples {
        total += x[i * features + a] * x[i * features + b] * p[i] * (1 - p[i])
      }
      return total / Double(examples) + (a == b ? 2 * l2 : 0)
    }
  }

  static let objective = Objective(
    name: "logistic regression with L2",
    dimension: features,
    point: { randomTensor([LogisticRegression.features], seed: 103) },
    direction: { randomTensor([LogisticRegression.features], seed: 104) },
    f: { LogisticRegression.loss($0) })
}

// MARK: - Two-layer tanh MLP

/// Squared-error regression loss of a 3 -> 4 -> 1 tanh network on 5
/// examples, with all 21 parameters in one vector laid out as
/// `[W1 (3x4, row-major) | b1 (4) | w2 (4) | b2 (1)]` and sliced with
/// `slice(_:_:shape:)`.
enum TwoLayerMLP {
  static let examples = 5
  static let inputSize = 3
  static let hiddenSize = 4
  static let parameterCount = inputSize * hiddenSize + hiddenSize + hiddenSize + 1  // 21

  static func loss(_ theta: Tensor) -> Tensor {
    let x = Tensor(randomNormal: [examples, inputSize], seed: 201)
    let y = Tensor(randomNormal: [examples], seed: 202)
    let w1 = slice(theta, 0..<12, shape: [inputSize, hiddenSize])
    let b1 = slice(theta, 12..<16, shape: [hiddenSize])
    let w2 = slice(theta, 16..<20, shape: [hiddenSize])
    let b2 = slice(theta, 20..<21, shape: [1])
    let hidden = tanh(matmul(x, w1) + b1)  // [5, 4]
    let output = matmul(hidden, w2) + b2  // [5]
    let residual = output - y
    return residual.squared().mean()
  }

  static let objective = Objective(
    name: "two-layer tanh MLP (21 parameters)",
    dimension: parameterCount,
    point: { randomTensor([TwoLayerMLP.parameterCount], seed: 203, scale: 0.5) },
    direction: { randomTensor([TwoLayerMLP.parameterCount], seed: 204) },
    f: { TwoLayerMLP.loss($0) })
}

// MARK: - Rosenbrock

/// `sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2`, built with `slice`.
enum Rosenbrock {
  static func value(_ x: Tensor) -> Tensor {
    let n = x.scalarCount
    let head = slice(x, 0..<(n - 1), shape: [n - 1])
    let tail = slice(x, 1..<n, shape: [n - 1])
    let valley = tail - head.squared()
    let offset = 1.0 - head
    let terms = 100.0 * valley.squared() + offset.squared()
    return terms.sum()
  }

  static func analyticGradient(_ t: Tensor) -> Tensor {
    let x = t.scalars
    let n = x.count
    var g = [Double](repeating: 0, count: n)
    for i in 0..<n {
      if i < n - 1 {
        g[i] += -400 * x[i] * (x[i + 1] - x[i] * x[i]) - 2 * (1 - x[i])
      }
      if i > 0 {
        g[i] += 200 * (x[i] - x[i - 1] * x[i - 1])
      }
    }
    return Tensor(shape: [n], scalars: g)
  }

  static func analyticHessian(_ t: Tensor) -> Tensor {
    let x = t.scalars
    let n = x.count
    return makeMatrix(rows: n, cols: n) { i, j in
      if i == j {
        var d = 0.0
        if i < n - 1 { d += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2 }
        if i > 0 { d += 200 }
        return d
      }
      if j == i + 1 { return -400 * x[i] }
      if i == j + 1 { return -400 * x[j] }
      return 0
    }
  }

  /// Analytic gradient of x -> v^T H(x) v (third derivative contracted twice).
  static func analyticThirdOrder(_ t: Tensor, direction: Tensor) -> Tensor {
    let x = t.scalars
    let v = direction.scalars
    let n = x.count
    var g = [Double](repeating: 0, count: n)
    for k in 0..<n {
      if k < n - 1 { g[k] += 2400 * x[k] * v[k] * v[k] - 800 * v[k] * v[k + 1] }
      if k > 0 { g[k] += -400 * v[k - 1] * v[k - 1] }
    }
    return Tensor(shape: [n], scalars: g)
  }

  static let objective = Objective(
    name: "Rosenbrock (4-D)",
    dimension: 4,
    point: { mapScalars(Tensor(randomNormal: [4], seed: 301)) { 0.5 + 0.5 * $0 } },
    direction: { randomTensor([4], seed: 302) },
    f: { Rosenbrock.value($0) })
}

// MARK: - Softmax cross-entropy

/// Multinomial logistic regression: 5 examples, 3 features, 4 classes, the
/// 3 x 4 weight matrix flattened row-major into 12 parameters.
enum SoftmaxRegression {
  static let examples = 5
  static let features = 3
  static let classes = 4
  static let labelIndices = [0, 3, 1, 2, 1]

  static func inputs() -> Tensor {
    Tensor(randomNormal: [examples, features], seed: 401)
  }

  static func oneHotLabels() -> Tensor {
    makeMatrix(rows: examples, cols: classes) { i, c in labelIndices[i] == c ? 1 : 0 }
  }

  /// `mean_i(logSumExp(logits_i) - logits_i[label_i])`.
  static func loss(_ theta: Tensor) -> Tensor {
    let weights = theta.reshaped(to: [features, classes])
    let logits = matmul(inputs(), weights)  // [5, 4]
    let normalizer = logits.logSumExp(squeezingAxes: 1)  // [5]
    let picked = (oneHotLabels() * logits).sum(squeezingAxes: 1)  // [5]
    return (normalizer - picked).mean()
  }

  /// The same loss written as `-mean_i sum_c y_ic log(softmax(logits)_ic)`.
  static func lossViaLogSoftmax(_ theta: Tensor) -> Tensor {
    let weights = theta.reshaped(to: [features, classes])
    let logits = matmul(inputs(), weights)
    let logProbabilities = log(logits.softmax(alongAxis: 1))
    let perExample = (oneHotLabels() * logProbabilities).sum(squeezingAxes: 1)
    return -perExample.mean()
  }

  /// Row-wise softmax probabilities, in plain Swift.
  static func probabilities(_ theta: Tensor) -> [[Double]] {
    let weights = theta.reshaped(to: [features, classes])
    let logits = referenceMatmul(inputs(), weights).scalars
    return (0..<examples).map { i in
      referenceSoftmax(Array(logits[(i * classes)..<((i + 1) * classes)]))
    }
  }

  /// Analytic gradient X^T (P - Y) / n, flattened.
  static func analyticGradient(_ theta: Tensor) -> Tensor {
    let x = inputs().scalars
    let p = probabilities(theta)
    var g = [Double](repeating: 0, count: features * classes)
    for a in 0..<features {
      for c in 0..<classes {
        var total = 0.0
        for i in 0..<examples {
          let y = labelIndices[i] == c ? 1.0 : 0.0
          total += x[i * features + a] * (p[i][c] - y)
        }
        g[a * classes + c] = total / Double(examples)
      }
    }
    return Tensor(shape: [features * classes], scalars: g)
  }

  /// Analytic Hessian: H[(a,c),(b,d)] = mean_i x_ia x_ib (delta_cd p_ic - p_ic p_id).
  static func analyticHessian(_ theta: Tensor) -> Tensor {
    let x = inputs().scalars
    let p = probabilities(theta)
    let n = features * classes
    return makeMatrix(rows: n, cols: n) { r, s in
      let (a, c) = (r / classes, r % classes)
      let (b, d) = (s / classes, s % classes)
      var total = 0.0
      for i in 0..<examples {
        let curvature = (c == d ? p[i][c] : 0) - p[i][c] * p[i][d]
        total += x[i * features + a] * x[i * features + b] * curvature
      }
      return total / Double(examples)
    }
  }

  static let objective = Objective(
    name: "softmax cross-entropy (logSumExp form)",
    dimension: features * classes,
    point: { randomTensor([SoftmaxRegression.features * SoftmaxRegression.classes], seed: 402) },
    direction: { randomTensor([SoftmaxRegression.features * SoftmaxRegression.classes], seed: 403) },
    f: { SoftmaxRegression.loss($0) })

  static let logSoftmaxObjective = Objective(
    name: "softmax cross-entropy (log-softmax form)",
    dimension: features * classes,
    point: { randomTensor([SoftmaxRegression.features * SoftmaxRegression.classes], seed: 404) },
    direction: { randomTensor([SoftmaxRegression.features * SoftmaxRegression.classes], seed: 405) },
    f: { SoftmaxRegression.lossViaLogSoftmax($0) })
}

// MARK: - Quadratic

/// `0.5 x^T A x + b^T x` with symmetric positive-definite A = M^T M + I
/// (4-D): gradient A x + b, Hessian A everywhere.
enum Quadratic {
  static let dimension = 4

  static func matrixA() -> Tensor {
    let m = Tensor(randomNormal: [dimension, dimension], seed: 501)
    let gram = referenceMatmul(referenceTranspose(m), m).scalars
    return makeMatrix(rows: dimension, cols: dimension) { i, j in
      gram[i * dimension + j] + (i == j ? 1 : 0)
    }
  }

  static func vectorB() -> Tensor {
    Tensor(randomNormal: [dimension], seed: 502)
  }

  static func value(_ x: Tensor) -> Tensor {
    let ax = matmul(matrixA(), x)
    let quadratic = 0.5 * dot(x, ax)
    return quadratic + dot(vectorB(), x)
  }

  static func analyticGradient(_ x: Tensor) -> Tensor {
    zipScalars(referenceMatVec(matrixA(), x), vectorB(), +)
  }

  static let objective = Objective(
    name: "quadratic 0.5 x^T A x + b^T x",
    dimension: dimension,
    point: { randomTensor([Quadratic.dimension], seed: 503) },
    direction: { randomTensor([Quadratic.dimension], seed: 504) },
    f: { Quadratic.value($0) })
}

// MARK: - Collections

enum Objectives {
  /// Every shared objective.
  static let all: [Objective] = [
    LogisticRegression.objective,
    TwoLayerMLP.objective,
    Rosenbrock.objective,
    SoftmaxRegression.objective,
    SoftmaxRegression.logSoftmaxObjective,
    Quadratic.objective,
  ]

  /// Objectives with non-vanishing third derivatives (all but the quadratic).
  static let nonQuadratic: [Objective] = [
    LogisticRegression.objective,
    TwoLayerMLP.objective,
    Rosenbrock.objective,
    SoftmaxRegression.objective,
  ]
}
