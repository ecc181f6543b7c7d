import Foundation
import TestSupport
import Testing

@testable import Autodiff

/// A matrix product applied again to the very operands of a recent one on the same tape
/// reuses its traced result (`Tape.reused`): one node, one pullback, the same derivatives.
@Suite("Reused products")
struct ProductReuseTests {
  static let b = Tensor(randomNormal: [5, 4], seed: 1)
  static let c1 = Tensor(randomNormal: [5], seed: 2)
  static let c2 = Tensor(randomNormal: [5], seed: 3)
  static let x = Tensor(randomNormal: [4], seed: 4)

  @Test("the same product of the same operands is recorded once, and its gradient gathers both uses")
  func reusedWithinATape() {
    let (b, c1, c2) = (Self.b, Self.c1, Self.c2)
    var shared = false
    let g = gradient(at: Self.x) { x -> Tensor in
      let first = matmul(b, x)
      let second = matmul(b, x)
      shared = first.lift != nil && first.lift === second.lift
      return dot(first, c1) + dot(second, c2)
    }
    #expect(shared, "the second product was recorded again")
    // ∇ = Bᵀ (c1 + c2).
    let expected = matmul(b, transposed: true, (c1 + c2).reshaped(to: [5, 1])).reshaped(to: [4])
    #expect(maxRelativeError(g, expected) < 1e-13)
  }

  @Test("equal but distinct operands, other transposes, and a constant written in between are not reused")
  func notReused() {
    let (b, c1) = (Self.b, Self.c1)
    var copy = Tensor(shape: b.shape, scalars: b.scalars)
    var distinct = false
    var otherTranspose = false
    var afterWrite = false
    let g = gradient(at: Self.x) { x -> Tensor in
      let first = matmul(b, x)
      distinct = first.lift !== matmul(copy, x).lift
      let column = x.reshaped(to: [4, 1])
      let square = Tensor(randomNormal: [4, 4], seed: 6)
      otherTranspose = matmul(square, column).lift !== matmul(square, transposed: true, column).lift
      let before = matmul(copy, x)
      copy.withUnsafeMutableScalars { $0[0] += 1 }  // copies: the tape's records share the buffer
      let after = matmul(copy, x)
      afterWrite = before.lift !== after.lift
      return dot(first, c1) + dot(after, c1)
    }
    #expect(distinct && otherTranspose && afterWrite)
    let written = copy
    let expected =
      matmul(b, transposed: true, c1.reshaped(to: [5, 1]))
      + matmul(
        written, transposed: true, c1.reshaped(to: [5, 1]))
    #expect(maxRelativeError(g, expected.reshaped(to: [4])) < 1e-13)
  }

  @Test("a tape holding reused products is released with its call and its pullback")
  func tapeReleased() {
    weak var tape: Tape?
    let (b, c1) = (Self.b, Self.c1)
    _ = gradient(at: Self.x) { x -> Tensor in
      tape = x.lift?.tape
      return dot(matmul(b, x), c1) + dot(matmul(b, x), c1)
    }
    #expect(tape == nil, "gradient's tape outlived the call")
    var back: ((Tensor) -> Tensor)? = pullback(at: Self.x) { x -> Tensor in
      tape = x.lift?.tape
      return dot(matmul(b, x), c1) * dot(matmul(b, x), c1)
    }
    #expect(tape != nil)
    #expect(back?(Tensor(1.0)).shape == [4])
    back = nil
    #expect(tape == nil, "the pullback's tape outlived the pullback")
    // A tracer that escaped its call (a misuse) and records products afterwards keeps no
    // entry, so the tape goes with it.
    var escaped: Tensor? = nil
    _ = gradient(at: Self.x) { x -> Tensor in
      tape = x.lift?.tape
      escaped = x
      return dot(matmul(b, x), c1)
    }
    if let late = escaped { _ = matmul(b, late) + matmul(b, late) }
    escaped = nil
    #expect(tape == nil, "products recorded after the call kept the tape alive")
  }

  @Test("HVPs through reused products equal the closed form in all three modes", arguments: HVPMode.allCases)
  func hessianVectorProducts(mode: HVPMode) {
    // f(x) = Σ c ⊙ (B x)² + Σ (B x) ⊙ (B x): H = 2 Bᵀ diag(c + 1) B.
    let (b, c1) = (Self.b, Self.c1)
    let v = Tensor(randomNormal: [4], seed: 5)
    let h = hvp(at: Self.x, direction: v, mode: mode) { x in
      (c1 * matmul(b, x).squared()).sum() + (matmul(b, x) * matmul(b, x)).sum()
    }
    let bv = matmul(b, v.reshaped(to: [4, 1])).reshaped(to: [5])
    let expected = 2 * matmul(b, transposed: true, ((c1 + 1) * bv).reshaped(to: [5, 1])).reshaped(to: [4])
    #expect(maxRelativeError(h, expected) < 1e-12, "\(mode)")
  }
}
