import StreamingJSON

/// Strings that come from users or servers (subjects, names, URIs, reason messages) before they
/// reach a record: control characters (C0, DEL, C1), line separators (U+2028/U+2029) and bidi
/// controls are replaced by a visible `\uXXXX`, and the length is capped (the protocol caps
/// subjects at 250 and operation ids at 50 characters; we allow some margin). So a journald
/// field or a terminal never receives a raw control sequence, whatever the sink.
package enum UserText {
    /// Caps in Unicode scalars, by kind of value.
    static let shortLimit = 256
    package static let messageLimit = 1024
    package static let uriLimit = 2048

    package static func sanitize(_ text: String, limit: Int = shortLimit) -> String {
        // Nearly every string is clean and short: then it is returned as it is, unallocated.
        isClean(text, limit: limit) ? text : escaped(text, limit: limit)
    }

    /// The escaping and capping itself, scalar by scalar.
    static func escaped(_ text: String, limit: Int) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            // The cap counts what is written, escapes included.
            var piece = String.UnicodeScalarView()
            if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                piece.append(
                    contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars
                )
            } else {
                piece.append(scalar)
            }
            if count + piece.count > limit {
                out.append("\u{2026}")
                break
            }
            out.append(contentsOf: piece)
            count += piece.count
        }
        return String(out)
    }

    static func sanitize(_ text: UCWAText?, limit: Int = shortLimit) -> String? {
        text.map { sanitize($0.string, limit: limit) }
    }

    /// Whether `text` has at most `limit` scalars and none that needs an escape; reads the UTF-8
    /// bytes once (a scalar is counted at its lead byte, escapes are recognised by their bytes).
    static func isClean(_ text: String, limit: Int) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var scalars = 0
            var index = 0
            let count = bytes.count
            while index < count {
                // Printable ASCII, eight bytes at a time: one scalar each.
                let plain = PlainASCII.skip(UnsafeRawBufferPointer(bytes), from: index, to: count)
                scalars &+= plain &- index
                if scalars > limit { return false }
                index = plain
                guard index < count else { break }
                let byte = bytes[index]
                if byte < 0x80 {
                    if byte < 0x20 || byte == 0x7F { return false }
                } else if byte >= 0xC0 {
                    let second: UInt8 = index + 1 < count ? bytes[index + 1] : 0
                    switch byte {
                    case 0xC2 where second <= 0x9F: return false  // C1 controls
                    case 0xD8 where second == 0x9C: return false  // U+061C
                    case 0xE2:
                        let third: UInt8 = index + 2 < count ? bytes[index + 2] : 0
                        if second == 0x80, third == 0x8E || third == 0x8F || (0xA8...0xAE).contains(third) {
                            return false
                        }
                        if second == 0x81, (0xA6...0xA9).contains(third) { return false }
                    default: break
                    }
                } else {
                    // A continuation byte: part of the scalar counted at its lead byte.
                    index += 1
                    continue
                }
                scalars += 1
                if scalars > limit { return false }
                index += 1
            }
            return true
        }
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
