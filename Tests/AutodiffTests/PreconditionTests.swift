import Autodiff
import Testing

// Shape errors are `precondition` failures. Each case runs in a child
// process (a Swift Testing exit test) that must terminate abnormally.
//
// Where the message is checked (debug builds only; optimized builds may strip
// precondition messages), the check is that both offending shapes appear in
// the process's standard error. A shape counts as present if its dimensions
// occur as consecutive integers in the text, so "[2, 7]", "(2, 7)" and "2x7"
// all match. The shapes are chosen so no other number on the line (such as a
// line number) can produce a false match by accident.

/// All maximal runs of decimal digits in `text`, as integers.
private func integers(in text: String) -> [Int] {
  var result: [Int] = []
  var current = ""
  for character in text {
    if character.isASCII, character.isNumber {
      current.append(character)
    } else if !current.isEmpty {
      result.append(Int(current) ?? -1)
      current = ""
    }
  }
  if !current.isEmpty { result.append(Int(current) ?? -1) }
  return result
}

/// Whether `shape`'s dimensions appear as consecutive integers in `text`.
private func mentions(_ text: String, shape: [Int]) -> Bool {
  let numbers = integers(in: text)
  guard !shape.isEmpty, numbers.count >= shape.count else { return false }
  for start in 0...(numbers.count - shape.count) where Array(numbers[start..<(start + shape.count)]) == shape {
    return true
  }
  return false
}

private func expectMentions(
  _ result: ExitTest.Result?, _ shapes: [[Int]], sourceLocation: SourceLocation = #_sourceLocation
) {
  #if DEBUG
    guard let result else { return }
    let text = String(decoding: result.standardErrorContent, as: UTF8.self)
    for shape in shapes {
      #expect(
        mentions(text, shape: shape),
        "precondition message should name shape \(shape); stderr was:\n\(text)",
        sourceLocation: sourceLocation)
    }
  #endif
}

@Suite("Shape preconditions")
struct PreconditionTests {
  @Test("Adding [3] and [2] traps")
  func addMismatch() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor([1, 2, 3]) + Tensor([1, 2])
    }
  }

  @Test("A custom rule that captures a tracer of its own level traps with a message, not a wrong derivative")
  func customRuleCapturingItsLevel() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = gradient(at: Tensor([1, 2])) { x in
        let w = x * 2  // a tracer of the level being differentiated
        let f = differentiableFunction({ $0 }, jvp: { _, _, t in t }, vjp: { _, _, c in c * w })
        return f(x).sum()
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("must not capture tracers of its own level"))
  }

  @Test("Incompatible broadcast [2,7] * [3,5] traps and names both shapes")
  func broadcastMismatchMessage() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones([2, 7]) * Tensor.ones([3, 5])
    }
    expectMentions(result, [[2, 7], [3, 5]])
  }

  @Test("Subtracting [4] - [3,5] traps")
  func subtractMismatch() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor.ones([4]) - Tensor.ones([3, 5])
    }
  }

  @Test("matmul with mismatched inner dimensions traps and names both shapes")
  func matmulMismatch() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = matmul(Tensor.ones([2, 3]), Tensor.ones([4, 5]))
    }
    expectMentions(result, [[2, 3], [4, 5]])
  }

  @Test("matmul of a matrix and a vector of the wrong length traps")
  func matVecMismatch() async {
    await #expect(processExitsWith: .failure) {
      _ = matmul(Tensor.ones([2, 3]), Tensor.ones([4]))
    }
  }

  @Test("reshaped to a different element count traps")
  func reshapeMismatch() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.ones([2, 3]).reshaped(to: [4, 5])
    }
    expectMentions(result, [[2, 3], [4, 5]])
  }

  @Test("A shape's axis out of range traps with the axis and the rank")
  func shapeAxisOutOfRange() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      let shape = Tensor.ones([2, 3]).shape
      _ = shape[2]
    }
    let message = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
    #expect(message.contains("axis 2 out of range for rank 2"), "\(message)")
  }

  @Test("A negative dimension traps when a tensor of that shape is made")
  func negativeDimension() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Tensor.zeros([3, -2])
    }
    let message = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
    #expect(message.contains("negative dimension in shape [3, -2]"), "\(message)")
  }

  @Test("dot of different shapes traps")
  func dotMismatch() async {
    await #expect(processExitsWith: .failure) {
      _ = dot(Tensor.ones([3]), Tensor.ones([4]))
    }
  }

  @Test("Shape errors inside a differentiated function trap too")
  func mismatchUnderGradient() async {
    await #expect(processExitsWith: .failure) {
      _ = gradient(at: Tensor.ones([3])) { x in (x + Tensor.ones([2])).sum() }
    }
  }

  @Test("Shape initializer with the wrong scalar count traps")
  func initializerMismatch() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
    }
  }
}
