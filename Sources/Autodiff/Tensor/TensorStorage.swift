import Synchronization

// The contiguous, copy-on-write buffer of Double values behind every Tensor.
//
// Implementation goals, in priority order: correctness, one allocation per tensor,
// in-place updates when the buffer is uniquely referenced.

/// A heap buffer of `Double`s in row-major order, shared between tensors until written.
///
/// Tensors reference their storage and only ever read it, except through
/// `Tensor.withMutableScalars`, which copies first unless the storage is uniquely
/// referenced (`isKnownUniquelyReferenced`). (Not `Sendable` itself, as `ManagedBuffer` is
/// not: `Tensor`, whose storage is never written once shared, is.)
///
/// One allocation per tensor: a buffer below `largeBufferThreshold` values lives in the
/// object's own tail (a `ManagedBuffer`), so that creating a small tensor costs one
/// `malloc` instead of two (the object and its buffer); this took a recorded operation
/// with a scalar literal from 7.2 to 4.7 heap allocations. Larger buffers are allocated
/// apart and recycled through `LargeBufferCache`.
@usableFromInline
final class TensorStorage: ManagedBuffer<TensorStorage.Header, Double> {
  /// The count and the address of the values (in the tail, or apart when `isExternal`).
  @usableFromInline
  struct Header {
    @usableFromInline var count: Int
    @usableFromInline var base: UnsafeMutablePointer<Double>
    @usableFromInline var isExternal: Bool

    @inlinable
    init(count: Int, base: UnsafeMutablePointer<Double>, isExternal: Bool) {
      self.count = count
      self.base = base
      self.isExternal = isExternal
    }
  }

  // The header is read through its pointer: `header` itself is a class property, whose
  // every read is a dynamic exclusivity check (measured: 6 % of a recorded operation).
  /// The number of values.
  @inlinable var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }
  /// The address of the first value.
  @inlinable var base: UnsafeMutablePointer<Double> { withUnsafeMutablePointerToHeader { $0.pointee.base } }

  /// A storage of `count` uninitialized values; the caller must initialize all of them.
  /// Large buffers come from `LargeBufferCache` when one of the same size is free.
  ///
  /// Values start on a cache line (64 bytes) from `alignedBufferMinimum` values on: an
  /// AVX-512 load from an address 16 bytes past one spans two lines, and a matrix-vector
  /// product streaming a 128 × 128 matrix from L2 took 2.0 µs at such an address against
  /// 1.1 µs at a line (malloc's alignment is 16).
  @inlinable
  static func make(uninitializedCount count: Int) -> TensorStorage {
    if count >= largeBufferThreshold {
      let buffer = LargeBufferCache.shared.take(count: count) ?? allocateAligned(count)
      let object = create(minimumCapacity: 0) { _ in Header(count: count, base: buffer, isExternal: true) }
      return unsafeDowncast(object, to: TensorStorage.self)
    }
    if count < alignedBufferMinimum {
      let object = create(minimumCapacity: Swift.max(count, 1)) { object in
        Header(count: count, base: object.withUnsafeMutablePointerToElements { $0 }, isExternal: false)
      }
      return unsafeDowncast(object, to: TensorStorage.self)
    }
    // Room for the values from the first line boundary in the tail on.
    let object = create(minimumCapacity: count + cacheLineValues - 1) { object in
      let elements = object.withUnsafeMutablePointerToElements { $0 }
      let misalignment = Int(bitPattern: elements) & (cacheLineValues * MemoryLayout<Double>.stride - 1)
      let skip = misalignment == 0 ? 0 : cacheLineValues - misalignment / MemoryLayout<Double>.stride
      return Header(count: count, base: elements + skip, isExternal: false)
    }
    return unsafeDowncast(object, to: TensorStorage.self)
  }

  /// `count` values apart from the object, on a cache line.
  @usableFromInline
  static func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Double> {
    UnsafeMutableRawPointer.allocate(
      byteCount: count * MemoryLayout<Double>.stride, alignment: cacheLineValues * MemoryLayout<Double>.stride
    ).bindMemory(to: Double.self, capacity: count)
  }

  /// A storage of `count` copies of `value`.
  @inlinable
  static func make(repeating value: Double, count: Int) -> TensorStorage {
    let storage = make(uninitializedCount: count)
    storage.base.initialize(repeating: value, count: count)
    return storage
  }

  /// A storage holding `values`.
  @inlinable
  static func make(_ values: [Double]) -> TensorStorage {
    let storage = make(uninitializedCount: values.count)
    values.withUnsafeBufferPointer { source in
      if let address = source.baseAddress { storage.base.initialize(from: address, count: values.count) }
    }
    return storage
  }

  /// A copy of this buffer (used by copy-on-write).
  @inlinable
  func makeCopy() -> TensorStorage {
    let copy = TensorStorage.make(uninitializedCount: count)
    copy.base.initialize(from: base, count: count)
    return copy
  }

  @inlinable
  var buffer: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: base, count: count) }

  @inlinable
  var mutableBuffer: UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  @inlinable
  var array: [Double] { Array(buffer) }

  deinit {
    // Doubles need no deinitialization; only a buffer allocated apart is released.
    let header = withUnsafeMutablePointerToHeader { $0.pointee }
    guard header.isExternal else { return }
    if LargeBufferCache.shared.keep(header.base, count: header.count) { return }
    header.base.deallocate()
  }
}

/// Buffers of at least this many values (64 KiB) go through `LargeBufferCache`.
@usableFromInline let largeBufferThreshold = 8192

/// Doubles per cache line.
@usableFromInline let cacheLineValues = 8

/// Buffers of at least this many values start on a cache line (smaller ones are read in a
/// few loads, and would waste up to 56 bytes each).
@usableFromInline let alignedBufferMinimum = 32

/// Freed large buffers, kept for the next tensor of the same size.
///
/// A loop over large tensors (a gradient step on 100000 parameters) frees and allocates
/// buffers of the same few sizes over and over. glibc serves each one with a fresh `mmap`
/// or by growing and trimming its heap, and every first write to a fresh page faults:
/// 2000 Rosenbrock-100000 gradients in a row took 2.10 s, half of it in the kernel (361
/// page faults per gradient); with this cache 0.94 s. At most `BufferCache.capacity`
/// bytes, and 32 buffers of one size, are kept; everything else is freed as before.
@usableFromInline
final class LargeBufferCache: Sendable {
  @usableFromInline static let shared = LargeBufferCache()
  static let maximumBuffersPerSize = 32

  fileprivate struct Pointer: @unchecked Sendable { let address: UnsafeMutablePointer<Double> }
  struct State {
    fileprivate var free: [Int: [Pointer]] = [:]
    var bytes = 0
    var capacity = 128 << 20
  }
  let state = Mutex(State())

  /// A cached buffer of exactly `count` values, or nil.
  @usableFromInline
  func take(count: Int) -> UnsafeMutablePointer<Double>? {
    state.withLock { state in
      guard let pointer = state.free[count]?.popLast() else { return nil }
      state.bytes -= count * MemoryLayout<Double>.stride
      return pointer.address
    }
  }

  /// Keeps `pointer` for reuse if there is room; false if the caller must free it.
  @usableFromInline
  func keep(_ pointer: UnsafeMutablePointer<Double>, count: Int) -> Bool {
    let size = count * MemoryLayout<Double>.stride
    return state.withLock { state in
      guard state.bytes + size <= state.capacity, state.free[count, default: []].count < Self.maximumBuffersPerSize
      else { return false }
      state.free[count, default: []].append(Pointer(address: pointer))
      state.bytes += size
      return true
    }
  }

  /// Frees every cached buffer.
  func purge() {
    let buffers = state.withLock { state in
      defer {
        state.free = [:]
        state.bytes = 0
      }
      return state.free.values.flatMap { $0 }
    }
    for buffer in buffers { buffer.address.deallocate() }
  }
}

/// The storages of scalar literals, shared: `t * 1.0001 + 0.001` or `0.5 * x` in a loop
/// makes the same literal tensors over and over, and each would otherwise cost a heap
/// allocation (Swift resolves such an expression to the `Tensor` × `Tensor` operators,
/// the `Double` ones being disfavoured to keep type-checking fast), about a third of a
/// recorded operation's `malloc`s.
///
/// Two tables of 64 slots, indexed by a hash of the value's bits. The first value to reach
/// a slot of `permanent` keeps it for the life of the process (its storage is never
/// released: 64 one-value storages at most): it is read without a lock, one atomic load.
/// Measured on the bench's chain of 200 literal operations, whose gradient took 7 µs more
/// than the same chain with `Double` operands (a lock, a retain and a release of the slot
/// per literal): 4 µs more now. A value whose permanent slot another value holds
/// goes to `slots`, under a lock, where a slot holds the last literal that hashed to it. A
/// storage here is never written: the cache's reference keeps it from being uniquely
/// referenced, so a write through a tensor copies it first.
final class LiteralStorageCache: Sendable {
  static let shared = LiteralStorageCache()

  /// A cached storage (sendable: never written, see above).
  struct Slot: @unchecked Sendable { let storage: TensorStorage }
  let slots = Mutex([Slot?](repeating: nil, count: 64))
  /// Storages that are never released, by address (0: the slot is free). A storage is
  /// complete before its address is published (release), and read after it is loaded
  /// (acquire); its value, read from the storage itself, tells whether it is the one asked.
  let permanent = InlineArray<64, Atomic<Int>> { _ in Atomic(0) }

  /// A one-value storage holding `value`, shared with every other literal of that value
  /// while it stays in its slot.
  func storage(holding value: Double) -> TensorStorage {
    let bits = value.bitPattern
    let index = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 58)
    let address = permanent[index].load(ordering: .acquiring)
    if let pointer = UnsafeRawPointer(bitPattern: address) {
      let storage = Unmanaged<TensorStorage>.fromOpaque(pointer).takeUnretainedValue()
      if storage.base[0].bitPattern == bits { return storage }
    } else {
      // Free: claim it for this value (if another thread claims it first, the lock below).
      let storage = TensorStorage.make(repeating: value, count: 1)
      let claimed = Int(bitPattern: Unmanaged.passRetained(storage).toOpaque())
      if permanent[index].compareExchange(expected: 0, desired: claimed, ordering: .releasing).exchanged {
        return storage
      }
      Unmanaged.passUnretained(storage).release()
    }
    return slots.withLock { slots in
      if let slot = slots[index], slot.storage.base[0].bitPattern == bits { return slot }
      let slot = Slot(storage: TensorStorage.make(repeating: value, count: 1))
      slots[index] = slot
      return slot
    }.storage
  }
}

/// The cache of freed large tensor buffers (64 KiB and more), which spares loops over large
/// tensors the page faults of fresh allocations.
public enum BufferCache {
  /// The most bytes the cache keeps (128 MiB unless set; 0 disables it). Lowering it below
  /// what the cache holds frees every cached buffer.
  public static var capacity: Int {
    get { LargeBufferCache.shared.state.withLock { $0.capacity } }
    set {
      LargeBufferCache.shared.state.withLock { $0.capacity = Swift.max(0, newValue) }
      if byteCount > capacity { purge() }
    }
  }

  /// The bytes the cache holds now.
  public static var byteCount: Int { LargeBufferCache.shared.state.withLock { $0.bytes } }

  /// Frees every cached buffer, returning the memory to the system allocator.
  public static func purge() { LargeBufferCache.shared.purge() }
}
