import Foundation
import TestSupport
import Testing

@testable import Autodiff

/// The operators' scalar fast path (`ScalarArithmetic`: a rank-0 constant or a `Double`
/// operand) against the broadcasting primitives it replaces, bit for bit: values,
/// gradients, JVPs and HVPs in every mode.
@Suite("Scalar operands")
struct ScalarArithmeticTests {
  /// (name, fast path, broadcasting primitive) for each operation and operand order.
  static let cases: [(String, @Sendable (Tensor) -> Tensor, @Sendable (Tensor) -> Tensor)] = [
    ("x + s", { $0 + 1.25 }, { apply(Add(), $0, Tensor(1.25)) }),
    ("s + x", { 1.25 + $0 }, { apply(Add(), Tensor(1.25), $0) }),
    ("x - s", { $0 - 0.75 }, { apply(Subtract(), $0, Tensor(0.75)) }),
    ("s - x", { 0.75 - $0 }, { apply(Subtract(), Tensor(0.75), $0) }),
    ("x * s", { $0 * 1.0001 }, { apply(Multiply(), $0, Tensor(1.0001)) }),
    ("s * x", { 0.3 * $0 }, { apply(Multiply(), Tensor(0.3), $0) }),
    ("x / s", { $0 / 3.0 }, { apply(Divide(), $0, Tensor(3.0)) }),
    (
      "x ∘ Double",
      { x in
        let s = 2.5
        return (x * s + s) / s - s
      },
      { x in
        let s = Tensor(2.5)
        return apply(
          Subtract(), apply(Divide(), apply(Add(), apply(Multiply(), x, s), s), s), s)
      }
    ),
  ]

  @Test("values, gradients, JVPs and HVPs in all three modes equal the broadcasting path's bit for bit")
  func agreesWithBroadcasting() {
    let x = Tensor(randomNormal: [7], seed: 3)
    let v = Tensor(randomNormal: [7], seed: 4)
    for (name, fast, broadcast) in Self.cases {
      // A nonlinear wrapper, so that second derivatives pass through the operation.
      let f: (Tensor) -> Tensor = { x in (fast(x) * fast(x)).sum() }
      let g: (Tensor) -> Tensor = { x in (broadcast(x) * broadcast(x)).sum() }
      #expect(fast(x).scalars == broadcast(x).scalars, "\(name): value")
      #expect(gradient(at: x, of: f).scalars == gradient(at: x, of: g).scalars, "\(name): gradient")
      #expect(
        jvp(at: x, direction: v, of: fast).tangent.scalars == jvp(at: x, direction: v, of: broadcast).tangent.scalars,
        "\(name): jvp")
      for mode in HVPMode.allCases {
        #expect(
          hvp(at: x, direction: v, mode: mode, of: f).scalars == hvp(at: x, direction: v, mode: mode, of: g).scalars,
          "\(name): hvp \(mode)")
      }
      // Shapes: a rank-0 operand broadcasts to x's shape, for a matrix too.
      let m = Tensor(randomNormal: [2, 3], seed: 5)
      #expect(fast(m).shape == [2, 3] && fast(m).scalars == broadcast(m).scalars)
    }
  }

  @Test("a rank-0 traced operand, or a one-element tensor of rank 1, keeps the broadcasting rules")
  func onlyConstantsOfRankZero() {
    let x = Tensor(randomNormal: [3], seed: 6)
    // d/ds of sum(x * s) = sum(x): s is traced, so it must not be taken as a constant.
    let ds = gradient(at: Tensor(2.0)) { s in (x * s).sum() }
    #expect(ds.scalar == x.sum().scalar)
    // [1] broadcast with a rank-0 tensor gives shape [1], not [].
    #expect((Tensor(2.0) * Tensor([3.0])).shape == [1])
  }

  @Test("a tape keeps what a rule reads: a product's node holds its operands, not its value")
  func tapeKeepsWhatRulesRead() {
    weak var product: TensorStorage?
    weak var quotient: TensorStorage?
    let c = Tensor(randomNormal: [4], seed: 7)
    let x = Tensor(randomNormal: [4], seed: 8)
    let back = pullback(at: x) { x -> Tensor in
      let y = x * c  // its rule reads x and c only
      let z = x / c  // its rule reads its value
      product = y.storage
      quotient = z.storage
      return (y * 2.0).sum() + (z * 2.0).sum()  // the scalings keep neither y nor z
    }
    #expect(product == nil, "the product's value was kept by the tape")
    #expect(quotient != nil, "the quotient's value is read by its rule")
    #expect(back(Tensor(1.0)).scalars == (2 * (c + 1 / c)).scalars)
  }

  @Test("the first literal in a slot keeps it; a colliding value shares through the locked table")
  func literalSlots() {
    let cache = LiteralStorageCache()
    func slot(_ v: Double) -> Int { Int(truncatingIfNeeded: (v.bitPattern &* 0x9E37_79B9_7F4A_7C15) >> 58) }
    let first = 1.0001
    guard let colliding = (1...10_000).lazy.map({ Double($0) / 8 }).first(where: { slot($0) == slot(first) }) else {
      Issue.record("no value collides with \(first) among 10000")
      return
    }
    let kept = cache.storage(holding: first)
    let other = cache.storage(holding: colliding)
    #expect(kept.base[0] == first && other.base[0] == colliding)
    #expect(cache.storage(holding: first) === kept, "the permanent slot lost its value")
    #expect(cache.storage(holding: colliding) === other, "the colliding value is not shared")
    #expect(cache.storage(holding: first) === kept)
  }
}
