/// The open containers of a document, innermost last, one bit each (object or array).
///
/// The first 64 levels live in one machine word, so pushing and popping on ordinary documents
/// never touches the heap; deeper levels (only with a raised depth limit) spill into an array.
struct ContainerStack: Sendable {
    private(set) var count = 0
    private var low: UInt64 = 0
    private var high: [UInt64] = []

    var isEmpty: Bool { count == 0 }

    /// Whether the innermost container is an object; `nil` when none is open.
    var top: Bool? {
        guard count > 0 else { return nil }
        return bit(count - 1)
    }

    @inline(__always)
    private func bit(_ level: Int) -> Bool {
        if level < 64 { return low >> UInt64(level) & 1 == 1 }
        let index = level - 64
        return high[index >> 6] >> UInt64(index & 63) & 1 == 1
    }

    @inline(__always)
    mutating func push(object: Bool) {
        let level = count
        if level < 64 {
            let mask: UInt64 = 1 << UInt64(level)
            low = object ? low | mask : low & ~mask
        } else {
            let index = level - 64
            if index >> 6 == high.count { high.append(0) }
            let mask: UInt64 = 1 << UInt64(index & 63)
            high[index >> 6] = object ? high[index >> 6] | mask : high[index >> 6] & ~mask
        }
        count += 1
    }

    @inline(__always)
    mutating func pop() {
        count -= 1
    }
}
