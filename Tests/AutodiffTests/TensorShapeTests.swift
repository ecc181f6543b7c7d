import Foundation
import TestSupport
import Testing

@testable import Autodiff

// TensorShape: one word, dimensions encoded inline up to rank 3 when they fit, interned
// otherwise. Every path must give the same dimensions back, compare equal exactly when
// the dimensions are equal (whatever way the shape was built), and behave as a collection.

/// Shapes on both sides of every encoding boundary: ranks 0 to 9, dimensions 0, 1, just
/// below and at the inline limits (2⁶¹ for vectors, 2³⁰ for matrices, 2²⁰ for rank 3), and
/// negative ones (a reshape's -1).
private let boundaryShapes: [[Int]] = [
  [], [0], [1], [7], [(1 << 61) - 1], [1 << 61], [Int.max], [-1],
  [0, 0], [3, 4], [(1 << 30) - 1, 5], [1 << 30, 5], [5, (1 << 30) - 1], [5, 1 << 30], [-1, 4], [4, -1],
  [2, 3, 4], [(1 << 20) - 1, 1, (1 << 20) - 1], [1 << 20, 1, 1], [1, 1 << 20, 1], [1, 1, 1 << 20], [2, -1, 3],
  [2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 0, 0, 0],
]

@Suite("TensorShape")
struct TensorShapeTests {
  @Test("Every encoding gives its dimensions back, by index, iteration, count and description")
  func roundTrip() {
    for dimensions in boundaryShapes {
      let shape = TensorShape(dimensions)
      #expect(shape.count == dimensions.count, "\(dimensions)")
      #expect(shape.isEmpty == dimensions.isEmpty, "\(dimensions)")
      #expect(Array(shape) == dimensions, "\(dimensions)")
      #expect(shape.dimensions == dimensions, "\(dimensions)")
      for axis in dimensions.indices { #expect(shape[axis] == dimensions[axis], "\(dimensions) axis \(axis)") }
      #expect(shape.description == dimensions.description)
      #expect(shape.product == dimensions.reduce(1, &*), "\(dimensions)")
      #expect(shape == dimensions && dimensions == shape && !(shape != dimensions), "\(dimensions)")
    }
  }

  @Test("Equal exactly when the dimensions are, however the shape was built")
  func equalityIsCanonical() {
    for a in boundaryShapes {
      for b in boundaryShapes {
        #expect((TensorShape(a) == TensorShape(b)) == (a == b), "\(a) vs \(b)")
      }
      // Built by appending, by replacing a range, by mutating an axis, and from a literal-like
      // sequence: the same word as the direct initializer.
      var appended = TensorShape()
      for dimension in a { appended.append(dimension) }
      #expect(appended == TensorShape(a), "appended \(a)")
      #expect(appended.hashValue == TensorShape(a).hashValue, "hash \(a)")
      var replaced = TensorShape([9, 9])
      replaced.replaceSubrange(0..<2, with: a)
      #expect(replaced == TensorShape(a), "replaced \(a)")
      for axis in a.indices {
        for value in [6, 1 << 40, -1, (1 << 20) - 1] {
          var mutated = TensorShape(a)
          mutated[axis] = value
          var expected = a
          expected[axis] = value
          #expect(mutated == TensorShape(expected) && Array(mutated) == expected, "\(a) axis \(axis) = \(value)")
        }
      }
    }
    #expect(TensorShape([2, 3]) == [2, 3] as TensorShape)
    #expect(TensorShape([2, 3]) != [3, 2] as TensorShape)
    #expect(TensorShape() == [] as TensorShape)
    #expect(Set(boundaryShapes.map { TensorShape($0) }).count == Set(boundaryShapes).count)
  }

  @Test("Range-replaceable operations: insert, remove, concatenate, drop")
  func collectionOperations() {
    var shape: TensorShape = [2, 3]
    shape.insert(5, at: 0)
    #expect(shape == [5, 2, 3])
    shape.append(contentsOf: [7, 1 << 40])
    #expect(Array(shape) == [5, 2, 3, 7, 1 << 40])
    #expect(shape.removeLast() == 1 << 40)
    #expect(shape.remove(at: 1) == 2)
    #expect(shape == [5, 3, 7])
    #expect(([4] + shape) == [4, 5, 3, 7])
    #expect((shape + [4]) == [5, 3, 7, 4] as TensorShape)
    #expect(Array(shape.dropFirst()) == [3, 7])
    #expect(shape.reduce(1, *) == 105)
  }

  @Test("Shapes of tensors of every rank and of huge views survive reshapes and batches")
  func tensorShapes() {
    let x = Tensor(randomNormal: [2, 3, 4, 5], seed: 1)
    #expect(x.shape == [2, 3, 4, 5])
    #expect(x.reshaped(to: [6, -1]).shape == [6, 20])
    #expect(x.reshaped(to: [1, 1, 2, 3, 4, 5, 1]).shape == [1, 1, 2, 3, 4, 5, 1])
    #expect(x.sum(squeezingAxes: [1]).shape == [2, 4, 5])
    let zeros = Tensor.zeros([1, 1 << 21])
    #expect(zeros.shape == [1, 1 << 21] && zeros.reshaped(to: [1, 1, 1 << 21]).shape == [1, 1, 1 << 21])
    // Codable as an array of integers.
    let encoded = try? JSONEncoder().encode(TensorShape([2, 1 << 33, 4, 5]))
    #expect(encoded.flatMap { String(data: $0, encoding: .utf8) } == "[2,\(1 << 33),4,5]")
    let decoded = encoded.flatMap { try? JSONDecoder().decode(TensorShape.self, from: $0) }
    #expect(decoded == TensorShape([2, 1 << 33, 4, 5]))
  }

  @Test("broadcasting, sums and reshapes with -1 intern only the shapes they return, none on the way")
  func noIntermediateShapes() {
    func isInterned(_ dimensions: [Int]) -> Bool {
      TensorShape.internedShapes.withLock { $0[dimensions] != nil }
    }
    // 9973 and 9967 appear in no other test.
    let a = Tensor.ones([9973, 1, 1, 1, 2])
    let b = Tensor.ones([1, 7, 1, 1])
    let c = a + b
    #expect(c.shape == [9973, 1, 7, 1, 2] && isInterned([9973, 1, 7, 1, 2]))
    #expect(!isInterned([9973, 1, 1, 1, 1]) && !isInterned([9973, 1, 7, 1, 1]))
    let r = Tensor.zeros([9967]).reshaped(to: [1, -1, 1, 1])
    #expect(r.shape == [1, 9967, 1, 1] && !isInterned([1, -1, 1, 1]))
  }

  @Test("Shapes made on many threads at once intern to one value")
  func concurrentInterning() async {
    let shapes = await withTaskGroup(of: [TensorShape].self) { group in
      for task in 0..<8 {
        group.addTask { (0..<200).map { TensorShape([1, 2, 3, 4, 5 + ($0 + task) % 7]) } }
      }
      var all: [TensorShape] = []
      for await part in group { all += part }
      return all
    }
    #expect(Set(shapes).count == 7)
    for shape in shapes { #expect(shape == TensorShape(Array(shape)) && shape.count == 5) }
  }
}
