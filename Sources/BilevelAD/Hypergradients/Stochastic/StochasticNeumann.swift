import Autodiff

// Stochastic Neumann approximations of w = [∇²_yy g]⁻¹ b, shared by the Neumann-based
// stochastic algorithms:
// - the stochastic Neumann series of Ji et al. (SHIA: stocBiO, MRBO, VRBO), Q products;
// - the randomized truncation of Ghadimi and Wang (HIA: BSA, TTSA, SUSTAIN), a random
//   number p < N of products scaled by N;
// and their joint forms (MRBO, SUSTAIN, VRBO), which run the same recursion at a current
// and a previous point on the same batches (and the same p), so that the difference of
// the two estimates has small variance.
//
// Every Hessian-vector product draws a fresh inner batch from `nextBatch` (nil: the full
// inner objective). Goals, in order: the benchmark's recursions exactly, then shared code.

/// The stochastic Neumann series for w ≈ [∇²_yy g(x, y)]⁻¹ b, with a fresh batch B_q per
/// product (SHIA).
///
/// ```
/// w = η Σ_{q=0}^{Q} Π_{k=1}^{q} (I − η ∇²_yy g_{B_k}(x, y)) b
/// p₀ = b,  p_q = p_{q−1} − η ∇²_yy g_{B_q}(x, y) p_{q−1},  w = η Σ_{q≤Q} p_q
/// ```
/// Q + 1 terms, which approximate the inverse when 0 < η < 2 / λ_max(∇²_yy g).
///
/// - Parameters:
///   - oracles: the counted oracles.
///   - x: the outer variable.
///   - y: the inner variable.
///   - b: the right-hand side, usually ∇_y f.
///   - step: η.
///   - terms: Q, the number of Hessian-vector products.
///   - nextBatch: yields the inner batch of the next product (nil: full batch).
/// - Returns: w, of y's shape.
/// - Complexity: Q Hessian-vector products.
///
/// References: K. Ji, J. Yang and Y. Liang, "Bilevel optimization: convergence analysis
/// and enhanced design", ICML 2021, Algorithm 3.
func stochasticNeumannSeries(
  oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, step: Double, terms: Int,
  nextBatch: () -> [Int]?
) -> Tensor {
  var p = b
  var sum = b
  for _ in 0..<terms {
    p = p - step * oracles.hessianVectorProduct(x: x, y: y, v: p, batch: nextBatch())
    sum = sum + p
  }
  return step * sum
}

/// `stochasticNeumannSeries` run at two points on the same batches.
///
/// ```
/// w  = η Σ_{q≤Q} Π_{k≤q} (I − η ∇²_yy g_{B_k}(x, y)) b
/// w⁻ = η Σ_{q≤Q} Π_{k≤q} (I − η ∇²_yy g_{B_k}(x⁻, y⁻)) b⁻
/// ```
/// - Returns: (w, w⁻).
/// - Complexity: 2Q Hessian-vector products on Q batches.
func jointStochasticNeumannSeries(
  oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, previousX: Tensor, previousY: Tensor,
  previousRightHandSide previousB: Tensor, step: Double, terms: Int, nextBatch: () -> [Int]?
) -> (current: Tensor, previous: Tensor) {
  var p = b
  var sum = b
  var previousP = previousB
  var previousSum = previousB
  for _ in 0..<terms {
    let batch = nextBatch()
    p = p - step * oracles.hessianVectorProduct(x: x, y: y, v: p, batch: batch)
    sum = sum + p
    previousP = previousP - step * oracles.hessianVectorProduct(x: previousX, y: previousY, v: previousP, batch: batch)
    previousSum = previousSum + previousP
  }
  return (step * sum, step * previousSum)
}

/// The randomized-truncation Neumann estimate of w ≈ [∇²_yy g(x, y)]⁻¹ b (HIA): one
/// random term of the series, scaled by the number of terms.
///
/// ```
/// p ~ Uniform{0, …, N − 1}
/// w = N η Π_{k=1}^{p} (I − η ∇²_yy g_{B_k}(x, y)) b
/// ```
/// In expectation over p and the batches, w is the N-term Neumann series
/// η Σ_{k<N} (I − η ∇²_yy g)^k b.
///
/// - Parameters:
///   - oracles: the counted oracles.
///   - x: the outer variable.
///   - y: the inner variable.
///   - b: the right-hand side, usually ∇_y f.
///   - step: η.
///   - terms: N, the truncation bound.
///   - generator: draws p.
///   - nextBatch: yields the inner batch of the next product (nil: full batch).
/// - Returns: w, of y's shape.
/// - Precondition: N ≥ 1.
/// - Complexity: p ≤ N − 1 Hessian-vector products, (N − 1)/2 on average.
///
/// References: S. Ghadimi and M. Wang, "Approximation methods for bilevel programming",
/// arXiv:1802.02246, 2018.
func randomizedNeumannSeries<Generator: RandomNumberGenerator>(
  oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, step: Double, terms: Int,
  truncation: NeumannTruncation = .randomized, using generator: inout Generator, nextBatch: () -> [Int]?
) -> Tensor {
  require(terms >= 1, "randomizedNeumannSeries: the truncation bound must be at least 1, got \(terms)")
  if truncation == .expected {
    return stochasticNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, step: step, terms: terms - 1, nextBatch: nextBatch)
  }
  let depth = Int.random(in: 0..<terms, using: &generator)
  var p = b
  for _ in 0..<depth {
    p = p - step * oracles.hessianVectorProduct(x: x, y: y, v: p, batch: nextBatch())
  }
  return (Double(terms) * step) * p
}

/// `randomizedNeumannSeries` run at two points with the same depth p and the same
/// batches.
///
/// ```
/// w  = N η Π_{k≤p} (I − η ∇²_yy g_{B_k}(x, y)) b
/// w⁻ = N η Π_{k≤p} (I − η ∇²_yy g_{B_k}(x⁻, y⁻)) b⁻
/// ```
/// - Returns: (w, w⁻).
/// - Precondition: N ≥ 1.
/// - Complexity: 2p Hessian-vector products on p batches.
func jointRandomizedNeumannSeries<Generator: RandomNumberGenerator>(
  oracles: Oracles, x: Tensor, y: Tensor, rightHandSide b: Tensor, previousX: Tensor, previousY: Tensor,
  previousRightHandSide previousB: Tensor, step: Double, terms: Int, truncation: NeumannTruncation = .randomized,
  using generator: inout Generator, nextBatch: () -> [Int]?
) -> (current: Tensor, previous: Tensor) {
  require(terms >= 1, "jointRandomizedNeumannSeries: the truncation bound must be at least 1, got \(terms)")
  if truncation == .expected {
    return jointStochasticNeumannSeries(
      oracles: oracles, x: x, y: y, rightHandSide: b, previousX: previousX, previousY: previousY,
      previousRightHandSide: previousB, step: step, terms: terms - 1, nextBatch: nextBatch)
  }
  let depth = Int.random(in: 0..<terms, using: &generator)
  var p = b
  var previousP = previousB
  for _ in 0..<depth {
    let batch = nextBatch()
    p = p - step * oracles.hessianVectorProduct(x: x, y: y, v: p, batch: batch)
    previousP = previousP - step * oracles.hessianVectorProduct(x: previousX, y: previousY, v: previousP, batch: batch)
  }
  let scale = Double(terms) * step
  return (scale * p, scale * previousP)
}

extension StochasticSettings {
  /// The seed of an algorithm's own randomness (truncation depths, random directions),
  /// derived from `seed` so that it differs from the two sampler streams.
  var algorithmSeed: UInt64 { seed &+ 0x3C6E_F372_FE94_F82B }
}
