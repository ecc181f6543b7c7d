import Foundation
import Testing

// The messages of the package's input checks must reach a user of an optimized build
// (`swift run -c release`), where Swift's `precondition` would drop them. This suite
// builds the `release-probes` fixture with `-c release` (in its own scratch folder, so it
// does not contend with the test build) and reads the standard error of each trap.

/// The package root, from this file's path.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

/// Runs `executable` with `arguments`; returns its exit status and standard error.
private func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (
  status: Int32, error: String
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [executable] + arguments
  process.currentDirectoryURL = directory
  let errorPipe = Pipe()
  process.standardError = errorPipe
  process.standardOutput = FileHandle.nullDevice
  try process.run()
  let data = errorPipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Trap messages in a release build", .serialized)
struct ReleaseMessageTests {
  static let expectations: [(probe: String, message: String)] = [
    ("broadcast", "+: shapes [3] and [2] are not broadcast-compatible"),
    ("scalars", "Tensor(shape:scalars:): shape [2, 3] needs 6 values, got 5"),
    ("reshape", "reshaped(to:): cannot reshape [2, 3] (6 values) to [4, 2]"),
    ("slice", "slicing(_:alongAxis:): range 2..<7 is out of bounds for axis 0 of shape [4]"),
    ("gather", "gathering(rows:): row 5 is out of range for shape [3, 2]"),
    ("hvp-direction", "hvp(at:direction:mode:of:): direction of shape [2] does not match the point's shape [3]"),
    ("pullback-seed", "pullback(at:of:): cotangent of shape [4] does not match the value's shape [3]"),
    ("non-scalar", "gradient(at:of:): the function must return one value, got shape [3]"),
    ("layouts", "-: structures of different layouts: [b: [3], w: [2]] and [c: [3], w: [2]]"),
    (
      "shape-overflow", "Tensor(shape:repeating:): shape [4294967296, 4294967296] has more values than an Int can count"
    ),
    (
      "shape-too-large",
      "Tensor(shape:repeating:): shape [1048576, 1048576] has 1099511627776 values, more than the maximum"
    ),
    ("negative-tolerance", "solveInner: tolerance must be non-negative, got -1.0"),
  ]

  @Test("each probe's message is printed by the -c release build")
  func messagesSurviveOptimization() throws {
    let scratch = packageRoot.appendingPathComponent(".build-release-probes").path
    let build = try run(
      "swift", ["build", "-c", "release", "--product", "release-probes", "--scratch-path", scratch], in: packageRoot)
    try #require(build.status == 0, "release build failed: \(build.error.suffix(2000))")
    let binary = "\(scratch)/release/release-probes"
    for (probe, message) in Self.expectations {
      let result = try run(binary, [probe], in: packageRoot)
      #expect(result.status != 0, "\(probe) did not trap")
      #expect(result.error.contains(message), "\(probe): expected '\(message)' in:\n\(result.error.prefix(600))")
    }
  }
}
