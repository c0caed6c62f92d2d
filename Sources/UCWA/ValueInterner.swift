/// Reuses the texts of values that repeat from event to event — rels, states, directions,
/// status and reason codes — so that decoding them costs a byte comparison instead of an
/// allocation. Hrefs, subjects and ids are not interned: they rarely repeat.
///
/// A direct-mapped table: a value's slot comes from its length and its first and last bytes,
/// and a new value simply replaces the slot's occupant. Vocabularies on the event channel are a
/// few dozen words, and a miss costs only what creating the text would have cost anyway.
struct ValueInterner: Sendable {
    /// Each slot: the value's length and first and last 8 bytes (zero-padded), compared before
    /// the bytes themselves so that a miss rarely touches the stored text.
    private struct Slot: Sendable {
        var count = -1
        var head: UInt64 = 0
        var tail: UInt64 = 0
        var text: UCWAText?
    }

    private var slots: [Slot]
    static let slotCount = 64
    /// Longer values are not worth keeping.
    static let maxLength = 48

    init() {
        slots = Array(repeating: Slot(), count: Self.slotCount)
    }

    /// The text for `value`, from the table when it was seen recently.
    mutating func text(_ value: UnsafeRawBufferPointer) -> UCWAText {
        let count = value.count
        guard count > 0 && count <= Self.maxLength else { return UCWAText(copying: value) }
        let head = Self.word(value, from: 0)
        let tail = Self.word(value, from: max(0, count - 8))
        let index = (count &* 7 &+ Int(truncatingIfNeeded: head &* 0x9E37_79B9_7F4A_7C15 >> 58)) & (Self.slotCount - 1)
        return slots.withUnsafeMutableBufferPointer { table in
            if table[index].count == count && table[index].head == head && table[index].tail == tail,
                let text = table[index].text,
                count <= 16 || text.withUTF8({ ByteMatching.equals($0, value) })
            {
                return text
            }
            let text = UCWAText(copying: value)
            table[index] = Slot(count: count, head: head, tail: tail, text: text)
            return text
        }
    }

    /// Up to 8 bytes from `from`, little-endian, zero-padded.
    @inline(__always)
    private static func word(_ value: UnsafeRawBufferPointer, from: Int) -> UInt64 {
        let available = value.count - from
        if available >= 8 { return value.loadUnaligned(fromByteOffset: from, as: UInt64.self) }
        var result: UInt64 = 0
        var k = 0
        while k < available {
            result |= UInt64(value[from + k]) << UInt64(8 * k)
            k += 1
        }
        return result
    }
}
