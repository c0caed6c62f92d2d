/// A growable byte buffer with cheap appends: the tokenizer's token buffer, and the place the
/// UCWA decoder gathers an event's texts.
///
/// Appending is a capacity check and a copy: no uniqueness check per call as with `Array`,
/// which matters when a server trickles a body a few bytes at a time or when an event has a
/// dozen short fields. The memory is owned by a class and freed with the last copy. The owner
/// calls `makeUnique()` once before a series of appends (the tokenizer does at each `feed`) so
/// that a copied buffer gets its own memory before it writes: value semantics are kept.
public struct GrowableBytes {
    @usableFromInline
    final class Storage {
        @usableFromInline let base: UnsafeMutablePointer<UInt8>
        @usableFromInline let capacity: Int
        @usableFromInline init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }
        deinit { base.deallocate() }
    }

    @usableFromInline var storage: Storage
    /// `storage.base` and `storage.capacity`, kept here so appends never touch the class.
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    /// The number of bytes held.
    public var count: Int { length }
    @usableFromInline var length = 0

    public init(capacity: Int = 256) {
        storage = Storage(capacity: capacity)
        base = storage.base
        self.capacity = capacity
    }

    /// Appends the bytes of `source`.
    @inlinable @inline(__always)
    public mutating func append(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        append(base.assumingMemoryBound(to: UInt8.self), count: source.count)
    }

    /// The bytes held, valid until the next mutation.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Gives this copy its own memory if another copy shares it.
    @inline(__always)
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { reallocate(capacity) }
    }

    @inline(__always)
    public mutating func removeAll() {
        length = 0
    }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        if length == capacity { reallocate(capacity * 2) }
        base[length] = byte
        length += 1
    }

    @inlinable @inline(__always)
    public mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) {
        if self.length + length > capacity { reallocate(max(capacity * 2, self.length + length)) }
        let target = base + self.length
        if length <= 32 {
            // Short runs (keys, ids, small values) are copied in words: calling memmove for them
            // costs more than the copy itself.
            var k = 0
            while k &+ 8 <= length {
                let word = UnsafeRawPointer(source + k).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(target + k).storeBytes(of: word, as: UInt64.self)
                k &+= 8
            }
            while k < length {
                target[k] = source[k]
                k &+= 1
            }
        } else {
            target.update(from: source, count: length)
        }
        self.length += length
    }

    @usableFromInline
    mutating func reallocate(_ newCapacity: Int) {
        let bigger = Storage(capacity: newCapacity)
        bigger.base.update(from: base, count: length)
        storage = bigger
        base = bigger.base
        capacity = newCapacity
    }
}
