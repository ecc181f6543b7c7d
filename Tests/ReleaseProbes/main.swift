// Traps a user can hit, one per argument, for checking that their messages survive an
// optimized build (`Tests/BilevelCLITests/ReleaseMessageTests.swift` builds this target
// with `-c release` and reads standard error). Not a product: a test fixture.
import Autodiff
import BilevelAD
import Foundation

let probes: [String: () -> Void] = [
  "broadcast": { _ = Tensor([1, 2, 3]) + Tensor([1, 2]) },
  "scalars": { _ = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5]) },
  "reshape": { _ = Tensor.zeros([2, 3]).reshaped(to: [4, 2]) },
  "slice": { _ = Tensor.zeros([4]).slicing(2..<7) },
  "gather": { _ = Tensor.zeros([3, 2]).gathering(rows: [0, 5]) },
  "hvp-direction": { _ = hvp(at: Tensor.zeros([3]), direction: Tensor.zeros([2])) { $0.sum() } },
  "pullback-seed": { _ = pullback(at: Tensor.zeros([3])) { $0 * 2 }(Tensor.zeros([4])) },
  "non-scalar": { _ = gradient(at: Tensor.zeros([3])) { $0 * 2 } },
  "layouts": {
    let a: [String: Tensor] = ["w": Tensor.zeros([2]), "b": Tensor.zeros([3])]
    let b: [String: Tensor] = ["w": Tensor.zeros([2]), "c": Tensor.zeros([3])]
    _ = a - b
  },
  "shape-overflow": { _ = Tensor.zeros([1 << 32, 1 << 32]) },
  "shape-too-large": { _ = Tensor.zeros([1 << 20, 1 << 20]) },
  "negative-tolerance": {
    let problem = BilevelProblem(outer: { _, y in y.sum() }, inner: { _, y in y.squared().sum() })
    _ = problem.solveInner(x: Tensor.zeros([1]), y0: Tensor.zeros([2]), tolerance: -1)
  },
]

let name = CommandLine.arguments.dropFirst().first ?? ""
guard let probe = probes[name] else {
  print("probes:", probes.keys.sorted().joined(separator: " "))
  exit(2)
}
probe()
print("no trap")
