/// Reuses the `String`s of values that repeat from event to event — rels, states, directions,
/// status and reason codes — so that decoding them costs a byte comparison instead of a
/// validation and an allocation. Hrefs, subjects and ids are not interned: they rarely repeat.
///
/// A direct-mapped table: a value's slot comes from its length and its first and last bytes,
/// and a new value simply replaces the slot's occupant. Vocabularies on the event channel are a
/// few dozen words, and a miss costs only what creating the string would have cost anyway.
struct ValueInterner: Sendable {
    private var bytes: [[UInt8]]
    private var strings: [String]
    static let slots = 64
    /// Longer values are not worth keeping.
    static let maxLength = 48

    init() {
        bytes = Array(repeating: [], count: Self.slots)
        strings = Array(repeating: "", count: Self.slots)
    }

    /// The string for `value`, from the table when it was seen recently.
    mutating func string(_ value: UnsafeRawBufferPointer) -> String {
        let count = value.count
        guard count > 0 && count <= Self.maxLength else { return ByteMatching.string(value) }
        let slot = (count &* 7 &+ Int(value[0]) &* 31 &+ Int(value[count - 1])) & (Self.slots - 1)
        let hit = bytes[slot].withUnsafeBytes { ByteMatching.equals($0, value) }
        if hit { return strings[slot] }
        let string = ByteMatching.string(value)
        bytes[slot] = Array(value)
        strings[slot] = string
        return string
    }
}
