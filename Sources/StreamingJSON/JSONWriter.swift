/// Writes JSON text into a byte buffer: the one place that knows how to escape a string.
///
/// Strings are escaped for every consumer we feed: RFC 8259 control characters, and also
/// U+2028/U+2029 (line separators for JavaScript and some log shippers), DEL and the Unicode
/// bidirectional controls (U+200E/F, U+202A–U+202E, U+2066–U+2069), so that a record printed on a
/// terminal never carries a raw control sequence or reorders the text around it.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends raw JSON text (punctuation, lexemes) verbatim.
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends raw bytes verbatim.
    public mutating func raw(_ text: some Sequence<UInt8>) {
        bytes.append(contentsOf: text)
    }

    /// Appends a quoted, escaped string.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in value.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20, 0x7F, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                unicodeEscape(v)
            case 0x20..<0x80:
                bytes.append(UInt8(v))
            default:
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func unicodeEscape(_ value: UInt32) {
        let digits: StaticString = "0123456789abcdef"
        raw("\\u")
        for shift in stride(from: 12, through: 0, by: -4) {
            bytes.append(digits.utf8Start[Int(value >> UInt32(shift) & 0xF)])
        }
    }

    /// Appends `"key":` (with a leading comma when `first` is false).
    public mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    /// Appends a whole value.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .number(let lexeme): raw(lexeme.utf8)
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(member.key)
                bytes.append(UInt8(ascii: ":"))
                self.value(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// The compact JSON text of this value.
    public var serialized: String {
        var writer = JSONWriter()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
