import Foundation

/// A fast, seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same sequence on every platform, which makes experiments,
/// tests and traces reproducible bit for bit.
///
/// References: D. Blackman and S. Vigna, "Scrambled linear pseudorandom number
/// generators", ACM TOMS 2021.
public struct SeededRandomNumberGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose sequence is determined by `seed`.
  public init(seed: UInt64) {
    var splitMix = seed
    func next() -> UInt64 {
      splitMix &+= 0x9E37_79B9_7F4A_7C15
      var z = splitMix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (next(), next(), next(), next())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotate(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotate(state.3, 45)
    return result
  }

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension RandomNumberGenerator {
  /// Two independent standard normal values (Box-Muller transform).
  public mutating func nextStandardNormalPair() -> (Double, Double) {
    // u1 in (0, 1] so that log(u1) is finite.
    let u1 = 1 - Double(next() >> 11) * 0x1.0p-53
    let u2 = Double(next() >> 11) * 0x1.0p-53
    let radius = (-2 * Foundation.log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    return (radius * Foundation.cos(angle), radius * Foundation.sin(angle))
  }
}
