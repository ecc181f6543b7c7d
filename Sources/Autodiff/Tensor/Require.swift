// The one check on a caller's input: its message is printed in every build configuration.

/// Stops the program with `message` unless `condition` holds.
///
/// Swift's `precondition` drops its message in optimized builds, which is what users run
/// (`swift run -c release`); `fatalError` keeps it. Every check on a caller's input in this
/// package that is new or rewritten goes through here, so the message a user reads names
/// the operation and the offending shapes or values whatever the build.
///
/// - Parameters:
///   - condition: what the caller's input must satisfy.
///   - message: the operation and what is wrong, evaluated only on failure.
@inlinable
@inline(__always)
package func require(
  _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
  if _slowPath(!condition) { fatalError(message(), file: file, line: line) }
}
