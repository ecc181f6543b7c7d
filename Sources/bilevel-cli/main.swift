import Autodiff
import BilevelAD

let x = Tensor([0.5, -1.0, 2.0])
print(gradient(at: x) { ($0 * $0).sum() })
let d = gradient(at: Tensor(1.0)) { x in x * gradient(at: Tensor(1.0)) { y in x + y } }
print("confusion", d)
let A = Tensor(randomNormal: [3, 3], seed: 1)
let v = Tensor([1.0, 2.0, 3.0])
func f(_ x: Tensor) -> Tensor { (softplus(matmul(A, x)) * tanh(x)).sum() + x.logSumExp() }
for m in HVPMode.allCases { print(m, hvp(at: x, direction: v, mode: m, of: f)) }
print(matmul(hessian(at: x, of: f), v))
print(jacobian(at: x) { exp($0) })
print(Tensor(randomNormal: [2, 3], seed: 3))
print(gradient(at: Tensor(2.0)) { x in gradient(at: x) { x in gradient(at: x) { x in gradient(at: x) { pow($0, 4).sum() } } } })
