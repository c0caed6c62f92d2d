/// The growable byte buffer that holds a token spanning chunks or containing escapes.
///
/// Appending a byte is a capacity check and a store: no uniqueness check per byte as with
/// `Array`, which matters when a server trickles a body a few bytes at a time. The memory is owned
/// by a class so that it is freed with the last copy; `makeUnique()`, called once per `feed`,
/// gives a copied tokenizer its own buffer before it writes (value semantics are kept).
struct ScratchBuffer {
    private final class Storage {
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }
        deinit { base.deallocate() }
    }

    private var storage: Storage
    /// `storage.base` and `storage.capacity`, kept here so appends never touch the class.
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        storage = Storage(capacity: capacity)
        base = storage.base
        self.capacity = capacity
    }

    /// The bytes held, valid until the next mutation.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Gives this copy its own memory if another copy shares it.
    @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { reallocate(capacity) }
    }

    @inline(__always)
    mutating func removeAll() {
        count = 0
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { reallocate(capacity * 2) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) {
        if count + length > capacity { reallocate(max(capacity * 2, count + length)) }
        (base + count).update(from: source, count: length)
        count += length
    }

    private mutating func reallocate(_ newCapacity: Int) {
        let bigger = Storage(capacity: newCapacity)
        bigger.base.update(from: base, count: count)
        storage = bigger
        base = bigger.base
        capacity = newCapacity
    }
}
