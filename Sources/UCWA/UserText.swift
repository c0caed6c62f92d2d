/// Strings that come from users or servers (subjects, names, URIs, reason messages) before they
/// reach a record: control characters (C0, DEL, C1), line separators (U+2028/U+2029) and bidi
/// controls are replaced by a visible `\uXXXX`, and the length is capped (the protocol caps
/// subjects at 250 and operation ids at 50 characters; we allow some margin). So a journald
/// field or a terminal never receives a raw control sequence, whatever the sink.
public enum UserText {
    /// Caps in Unicode scalars, by kind of value.
    public static let shortLimit = 256
    public static let messageLimit = 1024
    public static let uriLimit = 2048

    public static func sanitize(_ text: String, limit: Int = shortLimit) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            // The cap counts what is written, escapes included.
            var piece = String.UnicodeScalarView()
            if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                piece.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
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

    public static func sanitize(_ text: UCWAText?, limit: Int = shortLimit) -> String? {
        text.map { sanitize($0.string, limit: limit) }
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
