/// Reuses the `String`s of values that repeat from event to event — rels, states, directions,
/// status and reason codes — so that decoding them costs a byte comparison instead of a
/// validation and an allocation. Hrefs, subjects and ids are not interned: they rarely repeat.
///
/// A small table with round-robin replacement: vocabularies on the event channel are a few dozen
/// words, and a miss only costs what creating the string would have cost anyway.
struct ValueInterner: Sendable {
    private var bytes: [[UInt8]] = []
    private var strings: [String] = []
    private var nextVictim = 0
    static let capacity = 32
    /// Longer values are not worth keeping.
    static let maxLength = 48

    init() {
        bytes.reserveCapacity(Self.capacity)
        strings.reserveCapacity(Self.capacity)
    }

    /// The string for `value`, from the table when it was seen recently.
    mutating func string(_ value: UnsafeRawBufferPointer) -> String {
        guard value.count <= Self.maxLength else { return ByteMatching.string(value) }
        if let index = find(value) { return strings[index] }
        let string = ByteMatching.string(value)
        if bytes.count < Self.capacity {
            bytes.append(Array(value))
            strings.append(string)
        } else {
            bytes[nextVictim] = Array(value)
            strings[nextVictim] = string
            nextVictim = (nextVictim + 1) % Self.capacity
        }
        return string
    }

    @inline(__always)
    private func find(_ value: UnsafeRawBufferPointer) -> Int? {
        let count = value.count
        for index in bytes.indices where bytes[index].count == count {
            let equal = bytes[index].withUnsafeBytes { stored in
                var i = 0
                while i < count {
                    if stored[i] != value[i] { return false }
                    i += 1
                }
                return true
            }
            if equal { return index }
        }
        return nil
    }
}
