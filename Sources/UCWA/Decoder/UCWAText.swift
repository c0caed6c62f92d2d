import StreamingJSON

/// Text decoded from an event batch: a slice of bytes that the texts of one event share.
///
/// Building a `String` per field costs an allocation (most hrefs and ids exceed the 15-byte
/// small-string form) and a second validation of bytes the tokenizer has already checked; an
/// event carries a dozen such fields. A `UCWAText` instead points into one immutable buffer per
/// event, so decoding an event costs one allocation, and a consumer that writes records can copy
/// the bytes straight through (`withUTF8`). Convert with `string` where a `String` is needed.
/// The bytes are always valid UTF-8, as sent (escapes decoded).
///
/// Sendable: the storage is written once, when it is made, before any text refers to it, and
/// only read afterwards (ManagedBuffer itself is not marked Sendable, hence `unchecked`).
public struct UCWAText: @unchecked Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    let storage: UCWATextStorage
    let start: Int32
    let count: Int32

    init(storage: UCWATextStorage, start: Int, count: Int) {
        self.storage = storage
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    /// Text holding a copy of `string`'s UTF-8.
    public init(_ string: String) {
        var copy = string
        let storage = copy.withUTF8 { UCWATextStorage.make(copying: UnsafeRawBufferPointer($0)) }
        self.init(storage: storage, start: 0, count: storage.header)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// Text holding a copy of `bytes`, which must be valid UTF-8.
    init(copying bytes: UnsafeRawBufferPointer) {
        let storage = UCWATextStorage.make(copying: bytes)
        self.init(storage: storage, start: 0, count: bytes.count)
    }

    /// The empty text (one shared storage).
    static let empty = UCWAText(copying: UnsafeRawBufferPointer(start: nil, count: 0))

    /// The text as a `String`.
    var string: String {
        withUTF8 { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { string }

    /// Length in UTF-8 bytes.
    public var utf8Count: Int { Int(count) }

    var isEmpty: Bool { count == 0 }

    /// Calls `body` with the text's UTF-8 bytes (valid only during the call).
    func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeMutablePointerToElements { elements in
            try body(UnsafeRawBufferPointer(start: elements + Int(start), count: Int(count)))
        }
    }

    /// The text without its first `n` bytes (`n` must fall on a character boundary).
    func dropFirst(_ n: Int) -> UCWAText {
        UCWAText(storage: storage, start: Int(start) + n, count: Int(count) - n)
    }

    /// Whether the text starts with `prefix`.
    func hasPrefix(_ prefix: StaticString) -> Bool {
        withUTF8 { ByteMatching.hasPrefix($0, prefix) }
    }

    public static func == (lhs: UCWAText, rhs: UCWAText) -> Bool {
        lhs.count == rhs.count && lhs.withUTF8 { a in rhs.withUTF8 { b in ByteMatching.equals(a, b) } }
    }

    static func == (lhs: UCWAText, rhs: String) -> Bool {
        var rhs = rhs
        return rhs.withUTF8 { b in lhs.withUTF8 { a in ByteMatching.equals(a, UnsafeRawBufferPointer(b)) } }
    }

    static func == (lhs: String, rhs: UCWAText) -> Bool { rhs == lhs }

    public static func < (lhs: UCWAText, rhs: UCWAText) -> Bool {
        lhs.withUTF8 { a in rhs.withUTF8 { b in a.lexicographicallyPrecedes(b) } }
    }

    public func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: $0) }
    }
}

extension Optional where Wrapped == UCWAText {
    /// The text as a `String`, when present.
    var string: String? { self?.string }
}

/// The immutable bytes behind the texts of one event: one allocation, header = byte count.
/// Bytes are written once, in `make`, before any text refers to them.
final class UCWATextStorage: ManagedBuffer<Int, UInt8> {
    static func make(copying bytes: UnsafeRawBufferPointer) -> UCWATextStorage {
        let buffer = create(minimumCapacity: max(bytes.count, 1)) { _ in bytes.count }
        buffer.withUnsafeMutablePointerToElements { elements in
            if let base = bytes.baseAddress, bytes.count > 0 {
                elements.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
            }
        }
        return unsafeDowncast(buffer, to: UCWATextStorage.self)
    }
}
