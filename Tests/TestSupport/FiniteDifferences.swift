import Autodiff

// Finite-difference references used to check automatic derivatives.
//
// All helpers only *evaluate* the function under test. Perturbed inputs are
// built directly from scalars with `Tensor(shape:scalars:)`, and the
// differences are formed on plain `[Double]` arrays, so the reference never
// uses the differentiation machinery (or tensor arithmetic) it checks.
//
// Every difference quotient is divided by the step that was really taken,
// `(x + h) - (x - h)` in floating point, rather than by `2h`, which removes
// the representation error of the perturbed coordinate.
//
// Accuracy: for smooth functions the central-difference truncation error is
// O(h^2 * f''') (about 1e-10 for the default h = 1e-5 and O(1) derivatives)
// and the rounding error is about eps * |f| / h (about 1e-11 * |f|). Test
// points should keep kinks (abs, relu, max, min) and singularities (log,
// sqrt, division) more than `step` away.

/// Central-difference gradient of a scalar-valued function.
///
/// `g[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)` for every scalar of `x`.
/// `f` must return a one-element tensor (of any shape). The result has the
/// shape of `x`.
public func numericalGradient(
  at x: Tensor,
  step: Double = 1e-5,
  of f: (Tensor) -> Tensor
) -> Tensor {
  let shape = x.shape
  let base = x.scalars
  var result = [Double](repeating: 0, count: base.count)
  for i in base.indices {
    var plus = base
    var minus = base
    plus[i] += step
    minus[i] -= step
    let fPlus = f(Tensor(shape: shape, scalars: plus))
    let fMinus = f(Tensor(shape: shape, scalars: minus))
    precondition(
      fPlus.scalarCount == 1 && fMinus.scalarCount == 1,
      "numericalGradient: f must return one element, got shape \(fPlus.shape)")
    result[i] = (fPlus.scalars[0] - fMinus.scalars[0]) / (plus[i] - minus[i])
  }
  return Tensor(shape: shape, scalars: result)
}

/// Central-difference directional derivative (Jacobian-vector product).
///
/// Returns `(f(x + h v) - f(x - h v)) / (2h)`, elementwise, in the shape of
/// `f(x)`. `f` may return any shape; `direction` must have the shape of `x`.
public func numericalJVP(
  at x: Tensor,
  direction v: Tensor,
  step: Double = 1e-5,
  of f: (Tensor) -> Tensor
) -> Tensor {
  precondition(
    x.shape == v.shape,
    "numericalJVP: direction shape \(v.shape) differs from input shape \(x.shape)")
  let base = x.scalars
  let dir = v.scalars
  var plus = base
  var minus = base
  for i in base.indices {
    plus[i] = base[i] + step * dir[i]
    minus[i] = base[i] - step * dir[i]
  }
  let fPlus = f(Tensor(shape: x.shape, scalars: plus))
  let fMinus = f(Tensor(shape: x.shape, scalars: minus))
  precondition(
    fPlus.shape == fMinus.shape,
    "numericalJVP: output shape changed from \(fMinus.shape) to \(fPlus.shape)")
  let a = fPlus.scalars
  let b = fMinus.scalars
  var out = [Double](repeating: 0, count: a.count)
  for i in a.indices {
    out[i] = (a[i] - b[i]) / (2 * step)
  }
  return Tensor(shape: fPlus.shape, scalars: out)
}

/// Central-difference vector-Jacobian product `u^T J` (in the shape of `x`).
///
/// This is the finite-difference gradient of `x -> sum_i f(x)_i * u_i`, where
/// the weighted sum is formed on plain scalars. `cotangent` must have the
/// shape of `f(x)`.
public func numericalVJP(
  at x: Tensor,
  cotangent u: Tensor,
  step: Double = 1e-5,
  of f: (Tensor) -> Tensor
) -> Tensor {
  let weights = u.scalars
  return numericalGradient(at: x, step: step) { point in
    let y = f(point)
    precondition(
      y.shape == u.shape,
      "numericalVJP: cotangent shape \(u.shape) differs from output shape \(y.shape)")
    var total = 0.0
    for (value, weight) in zip(y.scalars, weights) {
      total += value * weight
    }
    return Tensor(shape: [], scalars: [total])
  }
}

/// Central-difference Jacobian, laid out like `jacobian(at:of:)`: the result
/// shape is `f(x).shape + x.shape`, and entry `[o..., i...]` is
/// `d f(x)[o...] / d x[i...]` (row-major, output index major).
public func numericalJacobian(
  at x: Tensor,
  step: Double = 1e-5,
  of f: (Tensor) -> Tensor
) -> Tensor {
  let base = x.scalars
  let n = base.count
  var columns: [[Double]] = []
  var outputShape: TensorShape = []
  for i in 0..<n {
    var plus = base
    var minus = base
    plus[i] += step
    minus[i] -= step
    let fPlus = f(Tensor(shape: x.shape, scalars: plus))
    let fMinus = f(Tensor(shape: x.shape, scalars: minus))
    outputShape = fPlus.shape
    let denominator = plus[i] - minus[i]
    columns.append(zip(fPlus.scalars, fMinus.scalars).map { ($0 - $1) / denominator })
  }
  if n == 0 {
    outputShape = f(x).shape
  }
  let m = outputShape.reduce(1, *)
  var scalars = [Double](repeating: 0, count: m * n)
  for i in 0..<n {
    for o in 0..<m {
      scalars[o * n + i] = columns[i][o]
    }
  }
  return Tensor(shape: outputShape + x.shape, scalars: scalars)
}
