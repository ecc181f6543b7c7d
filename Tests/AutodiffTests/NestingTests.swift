import Autodiff
import Foundation
import TestSupport
import Testing

// Nesting of differential operators (perturbation confusion, closures over
// outer variables, mixed modes), stop-gradients, and user functions with
// custom derivative rules.

private let exactTolerance = 1e-10
private let fdTolerance = 1e-6

@Suite("Perturbation confusion")
struct PerturbationConfusionTests {
  // d/dx [ x * d/dy (x + y) |_{y=1} ] at x = 1. The inner derivative is 1, so
  // the result is d/dx x = 1. Confusing the two perturbations gives 2.

  @Test("gradient inside gradient")
  func reverseReverse() {
    let d = gradient(at: Tensor(1.0)) { x in
      x * gradient(at: Tensor(1.0)) { y in x + y }
    }
    #expect(d.shape == [])
    expectClose(d.scalar, 1, tolerance: exactTolerance)
  }

  @Test("jvp inside jvp")
  func forwardForward() {
    let d = jvp(at: Tensor(1.0), direction: Tensor(1.0)) { x in
      x * jvp(at: Tensor(1.0), direction: Tensor(1.0)) { y in x + y }.tangent
    }.tangent
    expectClose(d.scalar, 1, tolerance: exactTolerance)
  }

  @Test("jvp inside gradient")
  func reverseForward() {
    let d = gradient(at: Tensor(1.0)) { x in
      x * jvp(at: Tensor(1.0), direction: Tensor(1.0)) { y in x + y }.tangent
    }
    expectClose(d.scalar, 1, tolerance: exactTolerance)
  }

  @Test("gradient inside jvp")
  func forwardReverse() {
    let d = jvp(at: Tensor(1.0), direction: Tensor(1.0)) { x in
      x * gradient(at: Tensor(1.0)) { y in x + y }
    }.tangent
    expectClose(d.scalar, 1, tolerance: exactTolerance)
  }

  @Test("Inner derivative that does depend on the outer variable")
  func dependentInner() {
    // d/dx [ x * d/dy (x * y) |_{y=2} ] = d/dx x^2 = 2x = 3 at x = 1.5.
    let x0 = Tensor(1.5)
    let reverse = gradient(at: x0) { x in x * gradient(at: Tensor(2.0)) { y in x * y } }
    expectClose(reverse.scalar, 3, tolerance: exactTolerance, "gradient/gradient")
    let forward = jvp(at: x0, direction: Tensor(1.0)) { x in
      x * jvp(at: Tensor(2.0), direction: Tensor(1.0)) { y in x * y }.tangent
    }.tangent
    expectClose(forward.scalar, 3, tolerance: exactTolerance, "jvp/jvp")
  }

  @Test("Same variable differentiated at two levels")
  func sameVariableTwoLevels() {
    // f(x) = d/dy [ (x * y)^2 ] at y0 summed: 2 x^2 y0 -> d/dx = 4 x y0.
    let x = randomTensor([3], seed: 1101)
    let y0 = randomTensor([3], seed: 1102)
    let outer: (Tensor) -> Tensor = { x in
      gradient(at: y0) { y in (x * y).squared().sum() }.sum()
    }
    let expected = zipScalars(x, y0) { 4 * $0 * $1 }
    expectClose(gradient(at: x, of: outer), expected, tolerance: exactTolerance)
    expectClose(numericalGradient(at: x, of: outer), expected, tolerance: fdTolerance, "reference sanity")
  }
}

@Suite("Mixed nesting")
struct MixedNestingTests {
  @Test("jvp nested inside gradient")
  func jvpInsideGradient() {
    let x = randomTensor([4], seed: 1111)
    let v = randomTensor([4], seed: 1112)
    // sum(jvp of exp along v) = sum(exp(x) * v) -> gradient exp(x) * v.
    let g = gradient(at: x) { x in jvp(at: x, direction: v) { exp($0) }.tangent.sum() }
    expectClose(g, zipScalars(x, v) { Foundation.exp($0) * $1 }, tolerance: exactTolerance)
  }

  @Test("gradient nested inside jvp")
  func gradientInsideJVP() {
    let x = randomTensor([4], seed: 1113)
    let v = randomTensor([4], seed: 1114)
    let (value, tangent) = jvp(at: x, direction: v) { x in gradient(at: x) { exp($0).sum() } }
    expectClose(value, mapScalars(x) { Foundation.exp($0) }, tolerance: exactTolerance, "value")
    expectClose(tangent, zipScalars(x, v) { Foundation.exp($0) * $1 }, tolerance: exactTolerance, "tangent")
  }

  @Test("pullback and valueWithDifferential nested inside gradient")
  func linearMapsInsideGradient() {
    let x = randomTensor([4], seed: 1115)
    let u = randomTensor([4], seed: 1116)
    // pullback of exp applied to u: exp(x) * u; summed, gradient exp(x) * u.
    let g1 = gradient(at: x) { x in pullback(at: x) { exp($0) }(u).sum() }
    expectClose(g1, zipScalars(x, u) { Foundation.exp($0) * $1 }, tolerance: exactTolerance, "pullback")
    // differential of tanh applied to u: (1 - t^2) u; gradient -2 t (1 - t^2) u.
    let g2 = gradient(at: x) { x in valueWithDifferential(at: x) { tanh($0) }.differential(u).sum() }
    let expected2 = zipScalars(x, u) { a, b in
      let t = Foundation.tanh(a)
      return -2 * t * (1 - t * t) * b
    }
    expectClose(g2, expected2, tolerance: exactTolerance, "differential")
  }

  @Test("jacobian and hessian nested inside gradient")
  func matricesInsideGradient() {
    let x = randomTensor([3], seed: 1117)
    // sum of the Jacobian of exp = sum(exp(x)) -> gradient exp(x).
    let g1 = gradient(at: x) { x in jacobian(at: x) { exp($0) }.sum() }
    expectClose(g1, mapScalars(x) { Foundation.exp($0) }, tolerance: exactTolerance, "jacobian")
    // sum of the Hessian of sum(x^3)/6 = sum(x) -> gradient ones.
    let g2 = gradient(at: x) { x in hessian(at: x) { pow($0, 3).sum() / 6.0 }.sum() }
    expectClose(g2, Tensor.ones([3]), tolerance: exactTolerance, "hessian")
  }

  @Test("Mixed partial derivatives through the two-argument gradient")
  func mixedPartials() {
    // f(a, b) = sum(a^2 * b): d/da = 2 a b; d/db (sum(d/da * w)) = 2 a w.
    let a = randomTensor([3], seed: 1118)
    let b = randomTensor([3], seed: 1119)
    let w = randomTensor([3], seed: 1120)
    let g = gradient(at: b) { b in
      let (ga, _) = gradient(at: a, b) { a, b in (a * a * b).sum() }
      return (ga * w).sum()
    }
    expectClose(g, zipScalars(a, w) { 2 * $0 * $1 }, tolerance: exactTolerance)
  }

  @Test("A pullback can be called several times and is linear")
  func pullbackReuse() {
    let x = randomTensor([3, 2], seed: 1121)
    let f: (Tensor) -> Tensor = { x in matmul(tanh(x), x.transposed()) }  // [3, 3]
    let (value, pb) = valueWithPullback(at: x, of: f)
    expectShape(value, [3, 3])
    let u1 = randomTensor([3, 3], seed: 1122)
    let u2 = randomTensor([3, 3], seed: 1123)
    let first = pb(u1)
    let second = pb(u2)
    let combined = pb(u1 + 2.0 * u2)
    expectClose(combined, zipScalars(first, second) { $0 + 2 * $1 }, tolerance: exactTolerance)
    expectClose(pb(u1), first, tolerance: 0, "repeatable")
    expectClose(first, numericalVJP(at: x, cotangent: u1, of: f), tolerance: fdTolerance, "finite differences")
  }

  @Test("A differential can be called several times and is linear")
  func differentialReuse() {
    let x = randomTensor([3, 2], seed: 1124)
    let f: (Tensor) -> Tensor = { x in matmul(tanh(x), x.transposed()) }
    let (_, df) = valueWithDifferential(at: x, of: f)
    let v1 = randomTensor([3, 2], seed: 1125)
    let v2 = randomTensor([3, 2], seed: 1126)
    let combined = df(v1 - 3.0 * v2)
    expectClose(combined, zipScalars(df(v1), df(v2)) { $0 - 3 * $1 }, tolerance: exactTolerance)
    expectClose(df(v1), numericalJVP(at: x, direction: v1, of: f), tolerance: fdTolerance, "finite differences")
  }
}

@Suite("withoutDerivative")
struct StopGradientTests {
  @Test("Cuts the gradient: d/dx sum(x * stop(x)) = x, not 2x")
  func cutsGradient() {
    let x = randomTensor([4], seed: 1201)
    let g = gradient(at: x) { x in (x * withoutDerivative(at: x)).sum() }
    expectClose(g, x, tolerance: exactTolerance)
  }

  @Test("Keeps the value")
  func keepsValue() {
    let x = randomTensor([2, 3], seed: 1202)
    expectClose(withoutDerivative(at: x), x, tolerance: 0)
    let (value, _) = valueWithGradient(at: x) { x in (x * withoutDerivative(at: x)).sum() }
    expectClose(value.scalars[0], referenceDot(x, x), tolerance: exactTolerance)
  }

  @Test("Cuts the tangent in forward mode")
  func cutsTangent() {
    let x = randomTensor([4], seed: 1203)
    let v = randomTensor([4], seed: 1204)
    let (_, tangent) = jvp(at: x, direction: v) { x in x * withoutDerivative(at: x) }
    expectClose(tangent, zipScalars(x, v, *), tolerance: exactTolerance)
  }

  @Test("A fully stopped function has a zero gradient of the input's shape")
  func zeroGradient() {
    let x = randomTensor([2, 3], seed: 1205)
    let g = gradient(at: x) { x in exp(withoutDerivative(at: x)).sum() }
    expectClose(g, Tensor.zeros([2, 3]), tolerance: 0)
  }

  @Test("Cuts second derivatives in every HVP mode", arguments: HVPMode.allCases)
  func cutsSecondOrder(mode: HVPMode) {
    // f = sum(x^2 * stop(x)): gradient 2 x stop(x), Hessian diag(2 stop(x)).
    let x = randomTensor([4], seed: 1206)
    let v = randomTensor([4], seed: 1207)
    let hv = hvp(at: x, direction: v, mode: mode) { x in (x * x * withoutDerivative(at: x)).sum() }
    expectClose(hv, zipScalars(x, v) { 2 * $0 * $1 }, tolerance: exactTolerance)
  }

  @Test("Stopping an outer variable inside an inner derivative")
  func stopInsideNested() {
    // Inner gradient of sum(stop(x) * y) with respect to y is stop(x): no
    // derivative flows back to the outer x, so the outer gradient is 0 for
    // that term; the x^2 term contributes 2x.
    let x = randomTensor([3], seed: 1208)
    let y0 = randomTensor([3], seed: 1209)
    let g = gradient(at: x) { x in
      let inner = gradient(at: y0) { y in (withoutDerivative(at: x) * y).sum() }
      return inner.sum() + x.squared().sum()
    }
    expectClose(g, mapScalars(x) { 2 * $0 }, tolerance: exactTolerance)
  }
}

// MARK: - Custom derivative rules

/// x^3 with hand-written rules: jvp 3 x^2 dx, vjp 3 x^2 dy (Tensor ops, so
/// the rules are themselves differentiable).
private func makeCube() -> (Tensor) -> Tensor {
  differentiableFunction(
    { x in x * x * x },
    jvp: { x, _, tangent in 3.0 * x * x * tangent },
    vjp: { x, _, cotangent in 3.0 * x * x * cotangent })
}

/// exp whose rules use the primal value: d exp = exp(x) dx.
private func makeCustomExp() -> (Tensor) -> Tensor {
  differentiableFunction(
    { exp($0) },
    jvp: { _, value, tangent in value * tangent },
    vjp: { _, value, cotangent in value * cotangent })
}

/// softplus = log(1 + exp(x)) with rules sigmoid(x) dx.
private func makeCustomSoftplus() -> (Tensor) -> Tensor {
  differentiableFunction(
    { x in log1p(exp(x)) },
    jvp: { x, _, tangent in sigmoid(x) * tangent },
    vjp: { x, _, cotangent in sigmoid(x) * cotangent })
}

/// The identity with deliberately doubled rules (d = 2 dx), to show the rules
/// are used instead of differentiating the primal.
private func makeDoubledIdentity() -> (Tensor) -> Tensor {
  differentiableFunction(
    { $0 },
    jvp: { _, _, tangent in 2.0 * tangent },
    vjp: { _, _, cotangent in 2.0 * cotangent })
}

/// ||x||^2 as a custom function with a rank-0 output; its vjp broadcasts the
/// rank-0 cotangent back to x's shape.
private func makeCustomSquaredNorm() -> (Tensor) -> Tensor {
  differentiableFunction(
    { x in x.squared().sum() },
    jvp: { x, _, tangent in (2.0 * x * tangent).sum() },
    vjp: { x, _, cotangent in 2.0 * x * cotangent })
}

@Suite("differentiableFunction")
struct CustomRuleTests {
  @Test("Custom rules replace differentiation of the primal")
  func rulesAreUsed() {
    let identity = makeDoubledIdentity()
    let x = randomTensor([3], seed: 1301)
    let v = randomTensor([3], seed: 1302)
    expectClose(identity(x), x, tolerance: 0, "value")
    expectClose(gradient(at: x) { identity($0).sum() }, Tensor([2, 2, 2]), tolerance: exactTolerance, "gradient")
    expectClose(jvp(at: x, direction: v, of: identity).tangent, 2.0 * v, tolerance: exactTolerance, "jvp")
    expectClose(pullback(at: x, of: identity)(v), 2.0 * v, tolerance: exactTolerance, "pullback")
  }

  @Test("Cube: value, gradient and jvp")
  func cubeFirstOrder() {
    let cube = makeCube()
    let x = randomTensor([4], seed: 1303)
    let v = randomTensor([4], seed: 1304)
    expectClose(cube(x), mapScalars(x) { $0 * $0 * $0 }, tolerance: exactTolerance, "value")
    let g = gradient(at: x) { cube($0).sum() }
    expectClose(g, mapScalars(x) { 3 * $0 * $0 }, tolerance: exactTolerance, "gradient")
    let (value, tangent) = jvp(at: x, direction: v, of: cube)
    expectClose(value, mapScalars(x) { $0 * $0 * $0 }, tolerance: exactTolerance, "jvp value")
    expectClose(tangent, zipScalars(x, v) { 3 * $0 * $0 * $1 }, tolerance: exactTolerance, "jvp tangent")
  }

  @Test("Cube: Hessian and hvp in every mode", arguments: HVPMode.allCases)
  func cubeSecondOrder(mode: HVPMode) {
    let cube = makeCube()
    let x = randomTensor([4], seed: 1305)
    let v = randomTensor([4], seed: 1306)
    let hv = hvp(at: x, direction: v, mode: mode) { cube($0).sum() }
    expectClose(hv, zipScalars(x, v) { 6 * $0 * $1 }, tolerance: exactTolerance, "hvp")
    let h = hessian(at: x) { cube($0).sum() }
    expectClose(h, diagonalMatrix(x.scalars.map { 6 * $0 }), tolerance: exactTolerance, "hessian")
  }

  @Test("Cube: second derivative through jvp of gradient and gradient of jvp")
  func cubeMixedSecondOrder() {
    let cube = makeCube()
    let x = randomTensor([4], seed: 1307)
    let v = randomTensor([4], seed: 1308)
    let expected = zipScalars(x, v) { 6 * $0 * $1 }
    let forwardOverReverse = jvp(at: x, direction: v) { x in gradient(at: x) { cube($0).sum() } }.tangent
    expectClose(forwardOverReverse, expected, tolerance: exactTolerance, "jvp of gradient")
    let reverseOverForward = gradient(at: x) { x in jvp(at: x, direction: v) { cube($0).sum() }.tangent }
    expectClose(reverseOverForward, expected, tolerance: exactTolerance, "gradient of jvp")
  }

  @Test("Cube: third derivative on a rank-0 input is 6, and cube(cube(x)) = x^9")
  func cubeHigherOrder() {
    let cube = makeCube()
    let a = 0.8
    let x = Tensor(a)
    let third = gradient(at: x) { x in gradient(at: x) { x in gradient(at: x, of: cube) } }
    expectClose(third.scalar, 6, tolerance: exactTolerance, "third derivative")
    let ninth: (Tensor) -> Tensor = { cube(cube($0)) }
    let d1 = gradient(at: x, of: ninth)
    expectClose(d1.scalar, 9 * Foundation.pow(a, 8), tolerance: exactTolerance, "d/dx x^9")
    let d2 = gradient(at: x) { gradient(at: $0, of: ninth) }
    expectClose(d2.scalar, 72 * Foundation.pow(a, 7), tolerance: exactTolerance, "d2/dx2 x^9")
    let d2Forward = jvp(at: x, direction: Tensor(1.0)) { x in jvp(at: x, direction: Tensor(1.0), of: ninth).tangent }
      .tangent
    expectClose(d2Forward.scalar, 72 * Foundation.pow(a, 7), tolerance: exactTolerance, "forward d2/dx2 x^9")
  }

  @Test("Rules that use the primal value differentiate correctly to fourth order")
  func customExpHigherOrder() {
    let customExp = makeCustomExp()
    let a = 0.3
    let x = Tensor([a])
    var d: (Tensor) -> Tensor = { customExp(2.0 * $0).sum() }
    for order in 1...4 {
      let previous = d
      d = { x in gradient(at: x, of: previous).sum() }
      let expected = Foundation.pow(2.0, Double(order)) * Foundation.exp(2 * a)
      expectClose(d(x).scalars[0], expected, tolerance: exactTolerance, "order \(order)")
    }
  }

  @Test("Custom exp: Hessian and hvp in every mode", arguments: HVPMode.allCases)
  func customExpSecondOrder(mode: HVPMode) {
    let customExp = makeCustomExp()
    let x = randomTensor([3], seed: 1309)
    let v = randomTensor([3], seed: 1310)
    let hv = hvp(at: x, direction: v, mode: mode) { customExp($0).sum() }
    expectClose(hv, zipScalars(x, v) { Foundation.exp($0) * $1 }, tolerance: exactTolerance)
  }

  @Test("Custom softplus inside logistic regression matches the built-in", arguments: HVPMode.allCases)
  func customSoftplusInModel(mode: HVPMode) {
    let customSoftplus = makeCustomSoftplus()
    let customLoss: (Tensor) -> Tensor = { w in
      let z = matmul(LogisticRegression.inputs(), w)
      let perExample = customSoftplus(z) - LogisticRegression.labels() * z
      return perExample.mean() + LogisticRegression.l2 * w.squared().sum()
    }
    let w = LogisticRegression.objective.point()
    let v = LogisticRegression.objective.direction()
    expectClose(customLoss(w), LogisticRegression.loss(w), tolerance: exactTolerance, "value")
    expectClose(
      gradient(at: w, of: customLoss), LogisticRegression.analyticGradient(w), tolerance: exactTolerance, "gradient")
    let expectedHV = referenceMatVec(LogisticRegression.analyticHessian(w), v)
    expectClose(hvp(at: w, direction: v, mode: mode, of: customLoss), expectedHV, tolerance: exactTolerance, "hvp")
    expectClose(
      hessian(at: w, of: customLoss), LogisticRegression.analyticHessian(w), tolerance: exactTolerance, "hessian")
  }

  @Test("Custom function with a rank-0 output and broadcasting rules", arguments: HVPMode.allCases)
  func customSquaredNorm(mode: HVPMode) {
    let squaredNorm = makeCustomSquaredNorm()
    let x = randomTensor([2, 3], seed: 1311)
    let v = randomTensor([2, 3], seed: 1312)
    expectClose(gradient(at: x, of: squaredNorm), 2.0 * x, tolerance: exactTolerance, "gradient")
    let (_, tangent) = jvp(at: x, direction: v, of: squaredNorm)
    expectClose(tangent.scalars[0], 2 * referenceDot(x, v), tolerance: exactTolerance, "jvp")
    expectClose(hvp(at: x, direction: v, mode: mode, of: squaredNorm), 2.0 * v, tolerance: exactTolerance, "hvp")
    let third = gradient(at: x) { x in hvp(at: x, direction: v, mode: mode, of: squaredNorm).sum() }
    expectClose(third, Tensor.zeros([2, 3]), tolerance: exactTolerance, "third order vanishes")
  }

  @Test("Custom functions agree with finite differences on a composite")
  func compositeFiniteDifferences() {
    let cube = makeCube()
    let customExp = makeCustomExp()
    let f: (Tensor) -> Tensor = { x in (customExp(0.5 * x) * cube(x) - cube(customExp(-x))).sum() }
    let x = randomTensor([4], seed: 1313)
    let v = randomTensor([4], seed: 1314)
    expectClose(gradient(at: x, of: f), numericalGradient(at: x, of: f), tolerance: fdTolerance, "gradient")
    expectClose(
      jvp(at: x, direction: v, of: f).tangent, numericalJVP(at: x, direction: v, of: f), tolerance: fdTolerance, "jvp")
    let expectedHV = numericalJVP(at: x, direction: v) { gradient(at: $0, of: f) }
    for mode in HVPMode.allCases {
      expectClose(hvp(at: x, direction: v, mode: mode, of: f), expectedHV, tolerance: fdTolerance, "hvp \(mode)")
    }
  }
}

@Suite("checkpointed blocks")
struct CheckpointedTests {
  /// Ten steps of a nonlinear map, as a block of (x, y) ↦ y.
  static func block(_ p: [Tensor]) -> [Tensor] {
    var y = p[1]
    for _ in 0..<10 { y = y - 0.1 * (tanh(y) * p[0] + y.squared() * 0.05) }
    return [y]
  }

  static func plain(_ p: [Tensor]) -> Tensor {
    var state = p[1]
    for _ in 0..<5 { state = block([p[0], state])[0] }
    return state.squared().sum()
  }

  static func remat(_ p: [Tensor]) -> Tensor {
    var state = p[1]
    let step = checkpointed(block)
    for _ in 0..<5 { state = step([p[0], state])[0] }
    return state.squared().sum()
  }

  let point = [Tensor([0.5, -1.0, 2.0]), Tensor([1.0, 0.3, -0.7])]
  let direction = [Tensor([0.1, 0.2, -0.3]), Tensor([1.0, -1.0, 0.5])]

  @Test("gradient, jvp and every HVP mode equal the plain block's")
  func sameDerivatives() {
    let g = gradient(at: point, of: Self.remat)
    let reference = gradient(at: point, of: Self.plain)
    for (a, b) in zip(g, reference) { expectClose(a, b, tolerance: 1e-14, "gradient") }
    expectClose(
      jvp(at: point, direction: direction, of: Self.remat).tangent,
      jvp(at: point, direction: direction, of: Self.plain).tangent, tolerance: 1e-14, "jvp")
    for mode in HVPMode.allCases {
      let h = hvp(at: point, direction: direction, mode: mode, of: Self.remat)
      let r = hvp(at: point, direction: direction, mode: mode, of: Self.plain)
      for (a, b) in zip(h, r) { expectClose(a, b, tolerance: 1e-12, "hvp \(mode)") }
    }
  }

  @Test("a checkpointed block runs once forward and once more in the backward pass")
  func fewerNodes() {
    // Counted through the value: the block's output is one primitive application, so its
    // pullback runs the block once more; the gradient is still exact.
    var evaluations = 0
    let counting = checkpointed { (p: [Tensor]) -> [Tensor] in
      evaluations += 1
      return Self.block(p)
    }
    _ = gradient(at: point) { p in counting(p)[0].sum() }
    #expect(evaluations == 2, "one forward evaluation, one recomputation in the backward pass")
  }
}
