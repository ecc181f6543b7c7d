// The structures every user has: a tensor, an array of structures, a dictionary of them.

extension Tensor: TensorStructure {
  /// Visits this tensor itself: a tensor is a structure of one tensor.
  @inlinable
  public mutating func visitTensors(_ visit: (inout Tensor) -> Void) { visit(&self) }

  public func hasSameLayout(as other: Tensor) -> Bool { shape == other.shape }

  public var layoutDescription: String { "\(shape)" }
}

extension Array: TensorStructure where Element: TensorStructure {
  /// Visits the elements' tensors, element by element in index order.
  @inlinable
  public mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    for index in indices { self[index].visitTensors(visit) }
  }

  public func hasSameLayout(as other: [Element]) -> Bool {
    count == other.count && zip(self, other).allSatisfy { $0.hasSameLayout(as: $1) }
  }

  public var layoutDescription: String {
    "[" + map(\.layoutDescription).joined(separator: ", ") + "]"
  }
}

extension Dictionary: TensorStructure where Key == String, Value: TensorStructure {
  /// Visits the values' tensors in ascending order of their keys, so that two
  /// dictionaries with the same keys pair up whatever order they were built in.
  @inlinable
  public mutating func visitTensors(_ visit: (inout Tensor) -> Void) {
    for key in keys.sorted() { self[key]!.visitTensors(visit) }
  }

  public func hasSameLayout(as other: [String: Value]) -> Bool {
    count == other.count
      && allSatisfy { key, value in other[key].map { value.hasSameLayout(as: $0) } ?? false }
  }

  public var layoutDescription: String {
    if isEmpty { return "[:]" }
    return "[" + keys.sorted().map { "\($0): \(self[$0]!.layoutDescription)" }.joined(separator: ", ") + "]"
  }
}
