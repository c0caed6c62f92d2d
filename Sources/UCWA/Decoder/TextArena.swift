import StreamingJSON

/// Collects the bytes of one event's texts while the event is parsed; `seal()` turns them into
/// one shared storage and the pending texts into `UCWAText`s.
struct TextArena {
    private var buffer = GrowableBytes(capacity: 1024)

    init() {}

    /// Where a text's bytes are in the arena: plain numbers, so pending fields cost no
    /// reference counting to set or clear.
    struct Pending {
        var start: Int
        var count: Int
    }

    /// Bytes added since the last `seal`.
    var count: Int { buffer.count }

    mutating func appendByte(_ byte: UInt8) {
        buffer.append(byte)
    }

    mutating func add(_ value: UnsafeRawBufferPointer) -> Pending {
        let start = buffer.count
        buffer.append(value)
        return Pending(start: start, count: value.count)
    }

    /// The storage for the texts added since the last `seal`, and an empty arena.
    mutating func seal() -> UCWATextStorage? {
        guard buffer.count > 0 else { return nil }
        let storage = UCWATextStorage.make(copying: buffer.bytes)
        buffer.removeAll()
        return storage
    }

    /// Empties the arena and makes sure this copy owns its memory.
    mutating func reset() {
        buffer.removeAll()
        buffer.makeUnique()
    }
}

extension TextArena.Pending {
    /// The final text, given the storage `seal()` returned.
    @inline(__always)
    func resolve(_ storage: UCWATextStorage?) -> UCWAText {
        // An empty text adds no bytes: the arena may then have sealed nothing.
        guard count > 0, let storage else { return UCWAText.empty }
        return UCWAText(storage: storage, start: start, count: count)
    }
}

extension TextArena {
    /// Appends `separator` and `value` to the text `pending`, which must be the last one added
    /// (so its bytes stay contiguous); otherwise the text is started again from `value`.
    mutating func extend(_ pending: inout Pending, separator: UInt8, with value: UnsafeRawBufferPointer) {
        guard pending.start + pending.count == count else {
            pending = add(value)
            return
        }
        appendByte(separator)
        _ = add(value)
        pending.count += 1 + value.count
    }
}
