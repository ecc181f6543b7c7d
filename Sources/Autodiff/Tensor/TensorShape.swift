import Synchronization

// The shape of a tensor, as one machine word that copies without reference counting.
//
// Why not `[Int]`: every tensor carries its shape, and every recorded operation copies a
// handful of tensors (operands into the pullback's context, the value into the tracer).
// An array is a heap object, so each copy was an atomic retain and release, and a new shape
// (a product's, a sum's) a heap allocation. Why not the dimensions inline: a tensor grew
// from 32 to 96 bytes, every copy became an outlined value-witness call, and a recorded
// operation got slower than with `[Int]` (measured: a 100-product chain 45 → 71 µs).
//
// So a shape is a word. Scalars, vectors, matrices and rank-3 batches whose dimensions fit
// (a vector below 2⁶¹, a matrix's below 2³⁰, a rank-3 shape's below 2²⁰) are encoded in
// it; any other shape is interned: its dimensions are written once, in a block that lives
// as long as the process, found again through a locked table whenever the same dimensions
// are asked for. The encoding is canonical, so two shapes are equal exactly when their words
// are. The table holds one block per distinct shape of rank 4 or more (or with a huge or
// negative dimension) that the process ever makes: a few in any real program (the package
// builds such shapes whole, never axis by axis, so that it interns no intermediate ones).

/// The size of each dimension of a tensor, outermost first; `[]` for a scalar.
///
/// A `TensorShape` is a random-access, mutable, range-replaceable collection of `Int`s that
/// is written as an array literal (`[3, 4]`), compares equal to an `[Int]` of the same
/// dimensions, and prints like one. It is one word: copying a shape, or a tensor, costs no
/// reference counting and no allocation, and comparing two shapes is one comparison.
public struct TensorShape: Sendable {
  /// Bit 0 set: the dimensions encoded inline (bits 1–2 the rank, 0–3; the dimensions from
  /// bit 3 on, `inlineWidth(rank)` bits each, outermost lowest). Bit 0 clear: the address
  /// of an interned block `[rank, d₀, …, d_{rank−1}]`.
  @usableFromInline var word: UInt

  @inlinable
  init(word: UInt) { self.word = word }

  /// The shape of a scalar: no dimensions.
  @inlinable
  public init() { word = 1 }

  /// A vector's shape: one dimension of size `n`.
  @inlinable
  init(vector n: Int) {
    if n >= 0 && n < 1 << 61 {
      self.init(word: UInt(n) << 3 | 1 << 1 | 1)
    } else {
      self.init(word: TensorShape.interned([n]).word)
    }
  }

  /// A matrix's shape: `rows` × `columns`.
  @inlinable
  init(rows: Int, columns: Int) {
    if rows >= 0 && rows < 1 << 30 && columns >= 0 && columns < 1 << 30 {
      self.init(word: UInt(columns) << 33 | UInt(rows) << 3 | 2 << 1 | 1)
    } else {
      self.init(word: TensorShape.interned([rows, columns]).word)
    }
  }

  /// A rank-3 shape.
  @inlinable
  init(_ d0: Int, _ d1: Int, _ d2: Int) {
    if TensorShape.fitsInline(d0, 3) && TensorShape.fitsInline(d1, 3) && TensorShape.fitsInline(d2, 3) {
      self.init(word: UInt(d2) << 43 | UInt(d1) << 23 | UInt(d0) << 3 | 3 << 1 | 1)
    } else {
      self.init(word: TensorShape.interned([d0, d1, d2]).word)
    }
  }

  /// The shape with the given dimensions, outermost first.
  ///
  /// - Parameter dimensions: the size of each dimension.
  @inlinable
  public init(_ dimensions: some Sequence<Int>) {
    var iterator = dimensions.makeIterator()
    guard let d0 = iterator.next() else {
      self.init()
      return
    }
    guard let d1 = iterator.next() else {
      self.init(vector: d0)
      return
    }
    guard let d2 = iterator.next() else {
      self.init(rows: d0, columns: d1)
      return
    }
    guard let d3 = iterator.next() else {
      self.init(d0, d1, d2)
      return
    }
    var all = [d0, d1, d2, d3]
    while let d = iterator.next() { all.append(d) }
    self.init(word: TensorShape.interned(all).word)
  }

  /// The product of the dimensions (1 for a scalar's shape): a tensor's number of values.
  @inlinable
  public var product: Int {
    if word & 1 == 0 { return (1...block[0]).reduce(1) { $0 &* block[$1] } }
    switch word >> 1 & 3 {
    case 0: return 1
    case 1: return Int(truncatingIfNeeded: word >> 3)
    case 2: return Int(truncatingIfNeeded: word >> 3 & (1 << 30 - 1)) &* Int(truncatingIfNeeded: word >> 33)
    default:
      let mask: UInt = 1 << 20 - 1
      return Int(truncatingIfNeeded: word >> 3 & mask) &* Int(truncatingIfNeeded: word >> 23 & mask)
        &* Int(truncatingIfNeeded: word >> 43)
    }
  }

  /// The dimensions as an array.
  @inlinable
  public var dimensions: [Int] { Array(self) }

  /// The bits per inline dimension at `rank` (1 to 3).
  @inlinable
  static func inlineWidth(_ rank: Int) -> Int { rank == 1 ? 61 : rank == 2 ? 30 : 20 }

  /// Whether `dimension` can be encoded inline in a shape of `rank` dimensions.
  @inlinable
  static func fitsInline(_ dimension: Int, _ rank: Int) -> Bool {
    dimension >= 0 && dimension < 1 << inlineWidth(rank)
  }

  /// The interned shape of `dimensions` (which do not fit inline).
  @usableFromInline
  static func interned(_ dimensions: [Int]) -> TensorShape {
    internedShapes.withLock { table in
      if let word = table[dimensions] { return TensorShape(word: word) }
      let block = UnsafeMutablePointer<Int>.allocate(capacity: dimensions.count + 1)
      block[0] = dimensions.count
      for (axis, dimension) in dimensions.enumerated() { block[axis + 1] = dimension }
      let word = UInt(bitPattern: block)
      table[dimensions] = word
      return TensorShape(word: word)
    }
  }

  /// The interned blocks by dimensions (never freed: shapes are values that outlive any
  /// tensor, and there are few of them).
  @usableFromInline
  static let internedShapes = Mutex<[[Int]: UInt]>([:])

  /// The interned block (valid only when bit 0 is clear).
  @inlinable
  var block: UnsafePointer<Int> { UnsafePointer(bitPattern: word).unsafelyUnwrapped }
}

extension TensorShape: RandomAccessCollection, MutableCollection {
  /// 0.
  @inlinable public var startIndex: Int { 0 }
  /// The rank.
  @inlinable public var endIndex: Int { count }

  /// The number of dimensions.
  @inlinable
  public var count: Int { @inline(__always) get { word & 1 == 1 ? Int(truncatingIfNeeded: word >> 1 & 3) : block[0] } }

  /// Whether this is a scalar's shape.
  @inlinable public var isEmpty: Bool { word == 1 }

  /// The size of dimension `axis`.
  ///
  /// - Precondition: `0 <= axis < count`.
  @inlinable
  public subscript(axis: Int) -> Int {
    @inline(__always) get {
      let rank = count
      if _slowPath(axis < 0 || axis >= rank) { TensorShape.axisOutOfRange(axis, rank: rank) }
      if word & 1 == 0 { return block[axis + 1] }
      let width = TensorShape.inlineWidth(rank)
      return Int(truncatingIfNeeded: word >> UInt(3 + width * axis) & (1 << UInt(width) - 1))
    }
    set {
      let rank = count
      if _slowPath(axis < 0 || axis >= rank) { TensorShape.axisOutOfRange(axis, rank: rank) }
      if word & 1 == 1 && TensorShape.fitsInline(newValue, rank) {
        let shift = UInt(3 + TensorShape.inlineWidth(rank) * axis)
        let mask: UInt = (1 << UInt(TensorShape.inlineWidth(rank)) - 1) << shift
        word = word & ~mask | UInt(newValue) << shift
        return
      }
      var all = dimensions
      all[axis] = newValue
      self = TensorShape(all)
    }
  }

  /// Stops with a message naming the axis and the rank (out of line: the subscript stays
  /// small enough to inline).
  @usableFromInline @inline(never)
  static func axisOutOfRange(_ axis: Int, rank: Int) -> Never {
    fatalError("TensorShape: axis \(axis) out of range for rank \(rank)")
  }

  /// The next axis.
  @inlinable public func index(after i: Int) -> Int { i + 1 }
  /// The previous axis.
  @inlinable public func index(before i: Int) -> Int { i - 1 }
}

extension TensorShape: RangeReplaceableCollection {
  /// Appends a dimension (without building an array, up to rank 3).
  ///
  /// - Parameter dimension: the size of the new innermost axis.
  @inlinable
  public mutating func append(_ dimension: Int) {
    switch count {
    case 0: self = TensorShape(vector: dimension)
    case 1: self = TensorShape(rows: self[0], columns: dimension)
    case 2: self = TensorShape(self[0], self[1], dimension)
    default:
      var all = dimensions
      all.append(dimension)
      self = TensorShape(all)
    }
  }

  /// Replaces the dimensions in `subrange` with `newElements`.
  ///
  /// - Parameters:
  ///   - subrange: the axes to replace.
  ///   - newElements: the dimensions to put there.
  @inlinable
  public mutating func replaceSubrange<C: Collection<Int>>(_ subrange: Range<Int>, with newElements: C) {
    var all = dimensions
    all.replaceSubrange(subrange, with: newElements)
    self = TensorShape(all)
  }
}

extension TensorShape: ExpressibleByArrayLiteral {
  /// The shape written as an array literal, such as `[3, 4]`.
  @inlinable
  public init(arrayLiteral dimensions: Int...) { self.init(dimensions) }
}

extension TensorShape: Hashable {
  /// Whether the shapes have the same dimensions (the encoding is canonical: one word
  /// comparison).
  @inlinable
  public static func == (lhs: TensorShape, rhs: TensorShape) -> Bool { lhs.word == rhs.word }

  /// Whether the shape has the dimensions of `rhs`.
  @inlinable
  public static func == (lhs: TensorShape, rhs: [Int]) -> Bool { lhs.elementsEqual(rhs) }

  /// Whether `lhs` holds the dimensions of the shape.
  @inlinable
  public static func == (lhs: [Int], rhs: TensorShape) -> Bool { lhs.elementsEqual(rhs) }

  /// Whether the shape differs from the dimensions of `rhs`.
  @inlinable
  public static func != (lhs: TensorShape, rhs: [Int]) -> Bool { !lhs.elementsEqual(rhs) }

  /// Whether `lhs` differs from the dimensions of the shape.
  @inlinable
  public static func != (lhs: [Int], rhs: TensorShape) -> Bool { !lhs.elementsEqual(rhs) }

  /// Hashes the dimensions.
  @inlinable
  public func hash(into hasher: inout Hasher) { hasher.combine(word) }
}

extension TensorShape: CustomStringConvertible {
  /// The dimensions as an array literal, such as `[3, 4]`.
  public var description: String { dimensions.description }
}

extension TensorShape: Codable {
  /// Decodes a shape written as an array of integers.
  public init(from decoder: any Decoder) throws {
    self.init(try [Int](from: decoder))
  }

  /// Encodes the shape as an array of integers.
  public func encode(to encoder: any Encoder) throws {
    try dimensions.encode(to: encoder)
  }
}
