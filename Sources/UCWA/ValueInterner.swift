/// Reuses the texts of values that repeat from event to event — rels, states, directions,
/// status and reason codes — so that decoding them costs a byte comparison instead of an
/// allocation. Hrefs, subjects and ids are not interned: they rarely repeat.
///
/// A direct-mapped table: a value's slot comes from its length and its first and last bytes,
/// and a new value simply replaces the slot's occupant. Vocabularies on the event channel are a
/// few dozen words, and a miss costs only what creating the text would have cost anyway.
struct ValueInterner: Sendable {
    private var slots: [UCWAText?]
    static let slotCount = 64
    /// Longer values are not worth keeping.
    static let maxLength = 48

    init() {
        slots = Array(repeating: nil, count: Self.slotCount)
    }

    /// The text for `value`, from the table when it was seen recently.
    mutating func text(_ value: UnsafeRawBufferPointer) -> UCWAText {
        let count = value.count
        guard count > 0 && count <= Self.maxLength else { return UCWAText(copying: value) }
        let slot = (count &* 7 &+ Int(value[0]) &* 31 &+ Int(value[count - 1])) & (Self.slotCount - 1)
        if let text = slots[slot], text.withUTF8({ ByteMatching.equals($0, value) }) {
            return text
        }
        let text = UCWAText(copying: value)
        slots[slot] = text
        return text
    }
}
