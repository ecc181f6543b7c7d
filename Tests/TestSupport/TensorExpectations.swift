import Autodiff
import Testing

// Comparison helpers for tensors.
//
// Error measure used throughout the suite
// ---------------------------------------
// `maxRelativeError(a, b)` treats `b` as the reference and returns
//
//     max_i |a_i - b_i| / max(1, max_i |b_i|)
//
// i.e. the largest elementwise difference, scaled by the magnitude of the
// reference tensor but never by less than 1. Scaling by the largest entry
// (rather than entry by entry) keeps tiny reference entries (such as
// gradients that are nearly zero) from blowing the ratio up, and the floor of
// 1 turns the measure into an absolute error for small tensors. Entries that
// are exactly equal (including equal infinities) contribute 0; any NaN, or
// any other non-finite difference, makes the error `.infinity`, as does a
// shape mismatch.

/// Largest elementwise difference scaled by `max(1, max |reference|)`.
///
/// See the comment at the top of this file. Returns `.infinity` if the shapes
/// differ or any entry is NaN (or differs from the reference by infinity).
public func maxRelativeError(_ actual: Tensor, _ reference: Tensor) -> Double {
  guard actual.shape == reference.shape else { return .infinity }
  return maxRelativeError(actual.scalars, reference.scalars)
}

/// The same measure as `maxRelativeError(_:_:)` on plain scalar arrays.
public func maxRelativeError(_ actual: [Double], _ reference: [Double]) -> Double {
  guard actual.count == reference.count else { return .infinity }
  var largestDifference = 0.0
  var scale = 1.0
  for (a, b) in zip(actual, reference) {
    if a.isNaN || b.isNaN { return .infinity }
    if b.isFinite { scale = Swift.max(scale, Swift.abs(b)) }
    if a == b { continue }
    let difference = Swift.abs(a - b)
    if !difference.isFinite { return .infinity }
    largestDifference = Swift.max(largestDifference, difference)
  }
  return largestDifference / scale
}

/// The same measure for two numbers: `|a - b| / max(1, |b|)`.
public func maxRelativeError(_ actual: Double, _ reference: Double) -> Double {
  maxRelativeError([actual], [reference])
}

/// A short human-readable rendering of a tensor for failure messages
/// (shape plus at most `limit` leading scalars). Does not rely on
/// `Tensor.description`.
public func summary(_ t: Tensor, limit: Int = 12) -> String {
  let values = t.scalars
  let shown = values.prefix(limit).map { String($0) }.joined(separator: ", ")
  let more = values.count > limit ? ", … (\(values.count) scalars)" : ""
  return "shape \(t.shape) [\(shown)\(more)]"
}

/// Expects `actual` to have the shape of `expected` and to agree with it to
/// `tolerance` in the `maxRelativeError` measure (with `expected` as the
/// reference). Returns whether both checks passed.
@discardableResult
public func expectClose(
  _ actual: Tensor,
  _ expected: Tensor,
  tolerance: Double,
  _ comment: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
  let label = comment.isEmpty ? "" : "\(comment): "
  guard actual.shape == expected.shape else {
    Issue.record(
      "\(label)shape mismatch: got \(actual.shape), expected \(expected.shape)",
      sourceLocation: sourceLocation)
    return false
  }
  let error = maxRelativeError(actual, expected)
  let passed = error <= tolerance
  #expect(
    passed,
    "\(label)max relative error \(error) exceeds \(tolerance)\n  actual:   \(summary(actual))\n  expected: \(summary(expected))",
    sourceLocation: sourceLocation)
  return passed
}

/// Expects two numbers to agree to `tolerance` as `|a - b| / max(1, |b|)`.
@discardableResult
public func expectClose(
  _ actual: Double,
  _ expected: Double,
  tolerance: Double,
  _ comment: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
  let label = comment.isEmpty ? "" : "\(comment): "
  let error = maxRelativeError(actual, expected)
  let passed = error <= tolerance
  #expect(
    passed,
    "\(label)got \(actual), expected \(expected) (relative error \(error) > \(tolerance))",
    sourceLocation: sourceLocation)
  return passed
}

/// Expects `actual` to have exactly `shape` and scalars within `tolerance`
/// of `scalars` (in the `maxRelativeError` measure).
@discardableResult
public func expectClose(
  _ actual: Tensor,
  shape: TensorShape,
  scalars: [Double],
  tolerance: Double,
  _ comment: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
  expectClose(
    actual, Tensor(shape: shape, scalars: scalars), tolerance: tolerance, comment,
    sourceLocation: sourceLocation)
}

/// Expects a tensor to have exactly the given shape (and a consistent
/// `rank` and `scalarCount`).
@discardableResult
public func expectShape(
  _ t: Tensor,
  _ shape: TensorShape,
  _ comment: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
  let label = comment.isEmpty ? "" : "\(comment): "
  let ok =
    t.shape == shape && t.rank == shape.count
    && t.scalarCount == shape.reduce(1, *) && t.scalars.count == t.scalarCount
  #expect(
    ok,
    "\(label)expected shape \(shape), got shape \(t.shape) rank \(t.rank) count \(t.scalarCount)",
    sourceLocation: sourceLocation)
  return ok
}

/// Expects a tensor's scalars to equal `scalars` exactly, with the given shape.
@discardableResult
public func expectExactly(
  _ t: Tensor,
  shape: TensorShape,
  scalars: [Double],
  _ comment: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
  let label = comment.isEmpty ? "" : "\(comment): "
  let ok = t.shape == shape && t.scalars == scalars
  #expect(
    ok,
    "\(label)expected shape \(shape) \(scalars), got \(summary(t, limit: 64))",
    sourceLocation: sourceLocation)
  return ok
}
