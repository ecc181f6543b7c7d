// swift-tools-version:6.0
import PackageDescription

// MARK: - Products

let products: [Product] = [
  .library(name: "Autodiff", targets: ["Autodiff"]),
  .library(name: "BilevelAD", targets: ["BilevelAD"]),
  .executable(name: "bilevel-cli", targets: ["bilevel-cli"]),
]

// MARK: - Library and executable targets

let targets: [Target] = [
  // The few kernels that need AVX2 or AVX-512: C functions with clang's `target` attribute,
  // called only on CPUs that have the instructions (Autodiff's KernelPath). No flags.
  .target(
    name: "CKernels"),
  .target(
    name: "Autodiff",
    dependencies: ["CKernels"]),
  .target(
    name: "BilevelAD",
    dependencies: ["Autodiff"],
    resources: [.copy("Resources")]),
  .target(
    name: "BilevelCLI",
    dependencies: ["Autodiff", "BilevelAD"]),
  .executableTarget(
    name: "bilevel-cli",
    dependencies: ["BilevelCLI"]),

  // MARK: - Test support and tests

  .target(
    name: "TestSupport",
    dependencies: ["Autodiff"],
    path: "Tests/TestSupport"),
  .testTarget(
    name: "AutodiffTests",
    dependencies: ["Autodiff", "CKernels", "TestSupport"]),
  .testTarget(
    name: "BilevelADTests",
    dependencies: ["Autodiff", "BilevelAD", "TestSupport"]),
  // Traps to check in an optimized build (run by ReleaseMessageTests, not a product).
  .executableTarget(
    name: "release-probes",
    dependencies: ["Autodiff", "BilevelAD"],
    path: "Tests/ReleaseProbes"),
  .testTarget(
    name: "BilevelCLITests",
    dependencies: ["BilevelCLI", "BilevelAD", "Autodiff"]),
]

let package = Package(
  name: "BilevelAD",
  products: products,
  targets: targets,
  swiftLanguageModes: [.v6]
)
