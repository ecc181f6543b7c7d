import CKernels
import Foundation
import Synchronization

/// The instruction-set level the hot kernels run at: matrix multiply's micro-kernel,
/// matrix-vector products, and the elementwise exp, log, log1p, sigmoid and softplus.
///
/// The package compiles for the baseline target of its platform (SSE2 on x86-64), with no
/// compiler flags; the wider paths are C functions (the `CKernels` target) that carry
/// clang's `target` attribute and run only on a CPU that has the instructions. At start-up
/// the widest supported path is chosen; the environment variable `AUTODIFF_KERNELS`
/// (`reference`, `avx2` or `avx512`) or an assignment to `current` overrides it, for tests
/// and benchmarks. Every path computes the same values up to rounding: the wider paths
/// fuse multiplies and adds, and the transcendental functions are within 1 to 3 ulp of
/// the correctly rounded values (`CKernels.h`).
public enum KernelPath: Int, Sendable, CaseIterable, CustomStringConvertible {
  /// Swift's SIMD loops for the baseline target, and glibc's functions: the reference the
  /// other paths are tested against. NEON on arm64.
  case reference = 0
  /// AVX2 with FMA (x86-64-v3): 6 × 8 GEMM tiles, 4-wide vectors.
  case avx2 = 1
  /// AVX-512 F (x86-64-v4): 8 × 24 GEMM tiles, 8-wide vectors.
  case avx512 = 2

  /// The name used by `AUTODIFF_KERNELS` and the benchmark's `--kernels`.
  public var description: String {
    switch self {
    case .reference: "reference"
    case .avx2: "avx2"
    case .avx512: "avx512"
    }
  }

  /// The path named `name` (its `description`), if any.
  public init?(named name: String) {
    guard let path = KernelPath.allCases.first(where: { $0.description == name }) else { return nil }
    self = path
  }

  /// Whether the running CPU (and operating system) supports this path.
  public var isSupported: Bool { ck_cpu_supports(Int32(rawValue)) != 0 }

  /// The widest path the running CPU supports.
  public static let widestSupported: KernelPath = allCases.last { $0.isSupported } ?? .reference

  private static let selected = Atomic<Int>(initialPath().rawValue)

  /// `AUTODIFF_KERNELS` when it names a supported path (a note on standard error when it
  /// does not), otherwise the widest supported path.
  private static func initialPath() -> KernelPath {
    guard let name = ProcessInfo.processInfo.environment["AUTODIFF_KERNELS"] else { return widestSupported }
    guard let path = KernelPath(named: name), path.isSupported else {
      let names = allCases.filter(\.isSupported).map(\.description).joined(separator: ", ")
      FileHandle.standardError.write(
        Data(
          "AUTODIFF_KERNELS=\(name) is not a kernel path this CPU supports (\(names)); using \(widestSupported)\n"
            .utf8))
      return widestSupported
    }
    return path
  }

  /// The path kernels started from now on use, on every thread.
  ///
  /// - Precondition: an assigned path `isSupported`.
  public static var current: KernelPath {
    get { KernelPath(rawValue: selected.load(ordering: .relaxed)) ?? .reference }
    set {
      require(newValue.isSupported, "KernelPath: this CPU does not support the \(newValue) kernels")
      selected.store(newValue.rawValue, ordering: .relaxed)
    }
  }
}
