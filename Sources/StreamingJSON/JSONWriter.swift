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
        var value = value
        value.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends a quoted, escaped string given as valid UTF-8 bytes (as the tokenizer hands them
    /// on): runs that need no escaping are copied as they are.
    public mutating func string(utf8 value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        let count = value.count
        var i = 0
        var run = 0
        while i < count {
            i = PlainASCII.skip(value, from: i, to: count)
            guard i < count else { break }
            let b = value[i]
            if b >= 0x80 {
                // U+2028/U+2029 and the bidi controls are all three-byte sequences led by E2.
                if b == 0xE2 && i + 2 < count {
                    let scalar = 0x2000 | UInt32(value[i + 1] & 0x3F) << 6 | UInt32(value[i + 2] & 0x3F)
                    if Self.needsEscape(scalar) {
                        appendRun(value, run, i)
                        unicodeEscape(scalar)
                        i += 3
                        run = i
                        continue
                    }
                }
                i += 1
                continue
            }
            appendRun(value, run, i)
            switch b {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            default: unicodeEscape(UInt32(b))
            }
            i += 1
            run = i
        }
        appendRun(value, run, count)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether a scalar from U+2000–U+2FFF must be escaped: line separators and bidi controls.
    static func needsEscape(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private mutating func appendRun(_ value: UnsafeRawBufferPointer, _ from: Int, _ to: Int) {
        if to > from { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[from..<to])) }
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
    var serialized: String {
        var writer = JSONWriter()
        writer.value(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
