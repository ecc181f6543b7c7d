import Autodiff
import BilevelAD
import Testing

/// The README's example, verbatim, with its claims checked.
@Suite("README example")
struct ReadmeExampleTests {
  @Test("the fifteen-line example runs and its hypergradient is right")
  func example() {
    let A: Tensor = [[4, 1], [1, 3]]
    let B: Tensor = [[1, 0], [0.5, 1]]
    let c: Tensor = [1, -1]
    let problem = BilevelProblem(
      outer: { x, y in 0.5 * (y - c).squared().sum() + 0.05 * x.squared().sum() },
      inner: { x, y in
        let r = y - matmul(B, x)
        return 0.5 * dot(r, matmul(A, r))
      })
    let x = Tensor([0.5, -1])
    let inner = problem.solveInner(x: x, y0: Tensor.zeros([2]))
    let h = problem.implicitHypergradient(x: x, y: inner.solution, solver: .conjugateGradient())
    let check = problem.checkHypergradient(x: x, y0: inner.solution, direction: Tensor([1, 1]), estimate: h.gradient)
    let unrolled = problem.unrolledHypergradient(x: x, y0: Tensor.zeros([2]), steps: 200, innerLearningRate: 0.2)
    let result = solve(problem, x0: x, y0: inner.solution, algorithm: AIDBIO(outerStep: 0.5))
    let H = hessian(at: x) { x in problem.outer(x, argmin(at: x, from: inner.solution, of: problem.inner)) }  // ∇²F(x)
    // ∇²F = BᵀB + 0.1 I.
    #expect((H - (matmul(B, transposed: true, B) + 0.1 * Tensor.identity(2))).norm().scalar < 1e-9)
    // y*(x) = B x, so ∇F(x) = 0.1 x + Bᵀ (B x − c).
    let exact = 0.1 * x + matmul(B, transposed: true, matmul(B, x) - c)
    #expect(h.converged)
    #expect((h.gradient - exact).norm().scalar < 1e-9)
    #expect(check.relativeDiscrepancy < 1e-6)
    #expect((unrolled.gradient - exact).norm().scalar < 1e-8)
    #expect(result.trace.records.last!.hypergradientNorm! < 1e-6)
  }

  @Test("the engine snippet gives 2x and the perturbation-confusion answer 1")
  func engine() {
    let x = Tensor([0.5, -1.0, 2.0])
    let g = gradient(at: x) { x in (x * x).sum() }
    let hv = hvp(at: x, direction: x, mode: .reverseOverForward) { x in x.logSumExp() }
    let (_, jv) = jvp(at: x, directions: Tensor.identity(3)) { x in x.softmax(alongAxis: 0) }  // 3 columns, one pass
    let one = gradient(at: Tensor(1.0)) { x in x * gradient(at: Tensor(1.0)) { y in x + y } }
    #expect(g.scalars == [1, -2, 4])
    #expect(hv.scalarCount == 3)
    // Row j is the softmax's Jacobian times e_j, its column j: diag(s) − s sᵀ is symmetric.
    let s = x.softmax(alongAxis: 0).scalars
    for i in 0..<3 {
      for j in 0..<3 {
        let expected = (i == j ? s[i] : 0) - s[i] * s[j]
        #expect(abs(jv.scalars[j * 3 + i] - expected) < 1e-14)
      }
    }
    #expect(one.scalar == 1)
    let p: [String: Tensor] = ["w": x, "b": Tensor(0.5)]
    let gp = gradient(at: p) { p in (p["w"]! * p["b"]!).sum() }
    #expect(gp["w"]!.scalars == [0.5, 0.5, 0.5] && gp["b"]!.scalar == 1.5)
    let terms = ElementwiseFunction { z, y in softplus(z) - y * z }  // fused: one pass,
    let gl = gradient(at: x) { x in terms.sum(x, Tensor([1, 0, 1])) }  // σ(x) − y
    #expect((gl - (sigmoid(x) - Tensor([1, 0, 1]))).norm().scalar < 1e-15)
  }
}
