import Autodiff
import BilevelAD

/// ‖a − b‖ / ‖b‖ (‖a − b‖ when b is zero).
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
  let difference = (a - b).norm().scalar
  let scale = b.norm().scalar
  return scale > 0 ? difference / scale : difference
}

/// Ridge logistic regression with one L2 weight per feature as the inner problem and the
/// validation logistic loss as the outer one:
///
///     g(λ, θ) = mean(softplus(X θ) − t ⊙ X θ) + ½ Σ_j exp(λ_j) θ_j²
///     f(λ, θ) = mean(softplus(V θ) − s ⊙ V θ)
struct PerFeatureRidgeLogistic {
  let features: Int
  let problem: BilevelProblem

  init(samples: Int = 40, validation: Int = 30, features: Int = 5, seed: UInt64 = 11) {
    self.features = features
    let truth = Tensor(randomNormal: [features], seed: seed)
    func labels(_ data: Tensor, seed: UInt64) -> Tensor {
      let noise = Tensor(randomNormal: [data.shape[0]], seed: seed).scalars
      let scores = matmul(data, truth).scalars
      return Tensor(zip(scores, noise).map { $0 + 0.5 * $1 > 0 ? 1 : 0 })
    }
    let train = Tensor(randomNormal: [samples, features], seed: seed &+ 1)
    let trainLabels = labels(train, seed: seed &+ 2)
    let valid = Tensor(randomNormal: [validation, features], seed: seed &+ 3)
    let validLabels = labels(valid, seed: seed &+ 4)
    problem = BilevelProblem(
      outer: { _, theta in
        let z = matmul(valid, theta)
        return (softplus(z) - validLabels * z).mean()
      },
      inner: { lambda, theta in
        let z = matmul(train, theta)
        return (softplus(z) - trainLabels * z).mean() + 0.5 * (exp(lambda) * theta.squared()).sum()
      })
  }
}
