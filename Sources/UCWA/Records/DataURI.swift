/// The text a UCWA invitation carries in a `data:` URI (RFC 2397), as its `message` and
/// `customContent` links do: `data:text/plain;charset=utf-8,Hi+Tosh%0d%0a` (protocol notes §1.5,
/// the ReceiveAnIM sample) or `data:text/plain;base64,…`.
///
/// UCWA percent-encodes the text form-style, spaces as `+` (the sample's `Hi+Tosh` is
/// "Hi Tosh"), so `+` decodes to a space — RFC 2397 alone would keep it. The decoded bytes must
/// be UTF-8 (other charsets are not sent by UCWA; bytes that are not valid UTF-8 give nil rather
/// than replacement characters); leading and trailing whitespace (the sample's trailing CRLF) is
/// trimmed, and an empty text is nil. Anything that is not a `data:` URI is already text and is
/// returned as it is (trimmed).
enum DataURI {
    static func text(_ value: String) -> String? {
        let utf8 = Array(value.utf8)
        guard utf8.count >= 5, utf8[0..<5].map({ $0 | 0x20 }) == Array("data:".utf8) else {
            return trimmed(value)
        }
        guard let comma = utf8.firstIndex(of: UInt8(ascii: ",")) else { return nil }
        let header = String(decoding: utf8[5..<comma], as: UTF8.self).lowercased()
        let payload = utf8[(comma + 1)...]
        let base64 = header.split(separator: ";").contains { $0.trimmingSpaces == "base64" }
        let bytes: [UInt8]?
        if base64 {
            bytes = decodeBase64(percentDecode(payload, plusIsSpace: false))
        } else {
            bytes = percentDecode(payload, plusIsSpace: true)
        }
        guard let bytes, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return trimmed(text)
    }

    private static func trimmed(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return nil }
        return String(scalars[first...last])
    }

    /// `%XX` decoded (an invalid escape is kept as it is); `+` as a space when asked.
    static func percentDecode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 4648 base64 (whitespace ignored, padding optional); nil on any other character.
    static func decodeBase64(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
