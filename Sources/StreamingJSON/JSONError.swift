/// A JSON document that could not be decoded: what was wrong and exactly where.
///
/// Every error carries the byte offset (0-based, counted from the first byte fed, a leading
/// BOM included), the 1-based line and the 1-based byte column, so that an operator can open the
/// captured body at the right place. `description` reads like
/// `line 9, column 2 (byte 188): expected a string key or '}', found ','`.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Equatable {
        /// A byte that the grammar does not allow here; `expected` says what was allowed.
        case unexpectedByte(UInt8, expected: String)
        /// The input ended inside a value (or before any value).
        case unexpectedEnd(expected: String)
        /// A byte sequence that is not well-formed UTF-8 (RFC 3629): overlong forms, encoded
        /// surrogates, code points above U+10FFFF, truncated sequences, stray continuation bytes.
        case invalidUTF8(String)
        /// A control character (U+0000–U+001F) inside a string: RFC 8259 §7 requires escaping.
        case controlCharacterInString(UInt8)
        /// A backslash escape that RFC 8259 §7 does not define, or a `\u` with bad hex digits.
        case invalidEscape(String)
        /// Containers nested deeper than the configured limit.
        case depthLimitExceeded(limit: Int)
        /// A string longer (in decoded UTF-8 bytes) than the configured limit.
        case stringTooLong(limit: Int)
        /// A number lexeme longer than the string limit.
        case numberTooLong(limit: Int)
        /// The document is larger than the configured total limit.
        case documentTooLarge(limit: Int)
        /// Bytes other than whitespace after the single top-level value.
        case trailingContent(UInt8)
        /// The bytes were valid JSON but the consumer (for example the UCWA batch decoder)
        /// refused the document's shape.
        case rejected(String)
    }

    /// What went wrong.
    var kind: Kind
    /// 0-based offset of the offending byte in the document (`-1` until located).
    public var offset: Int
    /// 1-based line of the offending byte.
    public var line: Int
    /// 1-based byte column of the offending byte within its line.
    public var column: Int

    init(_ kind: Kind, offset: Int, line: Int, column: Int) {
        self.kind = kind
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// An error raised by a token consumer; the tokenizer fills in the position of the token
    /// that the consumer refused.
    public static func rejected(_ message: String) -> JSONError {
        JSONError(.rejected(message), offset: -1, line: 0, column: 0)
    }

    /// Whether the position has been filled in.
    var isLocated: Bool { offset >= 0 }

    /// The kind's message without the position.
    var message: String {
        switch kind {
        case .unexpectedByte(let byte, let expected):
            return "expected \(expected), found \(Self.describe(byte))"
        case .unexpectedEnd(let expected):
            return "unexpected end of input, expected \(expected)"
        case .invalidUTF8(let detail):
            return "invalid UTF-8: \(detail)"
        case .controlCharacterInString(let byte):
            return "unescaped control character \(Self.describe(byte)) in string"
        case .invalidEscape(let detail):
            return "invalid escape: \(detail)"
        case .depthLimitExceeded(let limit):
            return "nesting deeper than the limit of \(limit)"
        case .stringTooLong(let limit):
            return "string longer than the limit of \(limit) bytes"
        case .numberTooLong(let limit):
            return "number longer than the limit of \(limit) bytes"
        case .documentTooLarge(let limit):
            return "document larger than the limit of \(limit) bytes"
        case .trailingContent(let byte):
            return "expected end of input after the top-level value, found \(Self.describe(byte))"
        case .rejected(let message):
            return message
        }
    }

    public var description: String {
        guard isLocated else { return message }
        return "line \(line), column \(column) (byte \(offset)): \(message)"
    }

    /// A printable name for a byte: `'x'` for visible ASCII, `0xNN` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        switch byte {
        case 0x20: return "' '"
        case 0x09: return "tab"
        case 0x0A: return "newline"
        case 0x0D: return "carriage return"
        default:
            let digits = Array("0123456789ABCDEF")
            return "byte 0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
        }
    }
}
