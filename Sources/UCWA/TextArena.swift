import StreamingJSON

/// Collects the bytes of one event's texts while the event is parsed; `seal()` turns them into
/// one shared storage and the pending texts into `UCWAText`s.
struct TextArena {
    private var buffer = ByteBuffer(capacity: 1024)

    init() {}

    /// A text whose bytes are in the arena, or one that already exists (interned values).
    enum Pending {
        case arena(start: Int, count: Int)
        case text(UCWAText)
    }

    mutating func add(_ value: UnsafeRawBufferPointer) -> Pending {
        let start = buffer.count
        buffer.append(value)
        return .arena(start: start, count: value.count)
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
    consuming func resolve(_ storage: UCWATextStorage?) -> UCWAText {
        switch self {
        case .text(let text):
            return text
        case .arena(let start, let count):
            // An empty text adds no bytes: the arena may then have sealed nothing.
            guard count > 0, let storage else { return UCWAText.empty }
            return UCWAText(storage: storage, start: start, count: count)
        }
    }
}
