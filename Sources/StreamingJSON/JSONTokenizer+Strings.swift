/// String scanning: plain content is checked eight bytes at a time and handed on without a copy
/// when the string lies inside one chunk and has no escapes; escapes, multi-byte sequences split
/// across chunks and strings split across chunks go through `scratch`.
extension JSONTokenizer {
    @inline(__always)
    static var quote: UInt8 { UInt8(ascii: "\"") }
    @inline(__always)
    static var backslash: UInt8 { UInt8(ascii: "\\") }

    /// Scans string bytes from `start`; returns the index after the last byte consumed.
    @inline(__always)
    mutating func scanString(_ p: UnsafePointer<UInt8>, _ start: Int, _ count: Int) throws(JSONError) -> Int {
        var i = start
        while true {
            // Finish an escape or a multi-byte sequence begun earlier.
            while pending != .none {
                if i == count { return i }
                if try stepPending(p[i], at: i) { i += 1 }
            }
            let segment = i
            while true {
                // Indices stay within 0...count, so wrapping arithmetic cannot wrap.
                while count &- i >= 8 {
                    let special = PlainASCII.specialBytes(
                        UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self).littleEndian
                    )
                    if special != 0 {
                        i &+= special.trailingZeroBitCount &>> 3
                        break
                    }
                    i &+= 8
                }
                // Every byte skipped so far is plain content: if the string is already over the
                // limit, that error comes before whatever stopped the scan, exactly as it would
                // had the chunk ended anywhere in between.
                if i &- segment &+ (buffering ? scratch.count : 0) > limits.maxStringBytes {
                    throw located(.stringTooLong(limit: limits.maxStringBytes), at: tokenStart)
                }
                if i == count {
                    try append(p, segment, i)
                    return i
                }
                let b = p[i]
                if b == Self.quote {
                    try deliverString(p, segment, i)
                    i &+= 1
                    // Chain the compact sequences `"key":"value"` and `"value","key"` without a
                    // trip through the dispatcher.
                    guard count &- i >= 2 else { return i }
                    if mode == .colon {
                        guard p[i] == UInt8(ascii: ":"), p[i &+ 1] == Self.quote else { return i }
                        beginString(at: i &+ 1, key: false)
                    } else if mode == .afterValue && inObject {
                        guard p[i] == UInt8(ascii: ","), p[i &+ 1] == Self.quote else { return i }
                        beginString(at: i &+ 1, key: true)
                    } else {
                        return i
                    }
                    i &+= 2
                    break
                }
                if b == Self.backslash {
                    try append(p, segment, i)
                    pending = .escape
                    i += 1
                    break
                }
                if b < 0x20 {
                    throw located(.controlCharacterInString(b), at: consumed + i)
                }
                if b < 0x80 {
                    i &+= 1
                    continue
                }
                // A multi-byte sequence: check it in place when it lies inside this chunk.
                let needed = try beginUTF8(b, at: i)
                if i + needed < count {
                    // Near the limit, count byte by byte as a split input would: each byte is
                    // validated, then counted.
                    let length = i &- segment &+ (buffering ? scratch.count : 0)
                    let nearLimit = length &+ needed &+ 1 > limits.maxStringBytes
                    if nearLimit && length &+ 1 > limits.maxStringBytes {
                        throw located(.stringTooLong(limit: limits.maxStringBytes), at: tokenStart)
                    }
                    var next = p[i + 1]
                    guard next >= utf8Low && next <= utf8High else {
                        throw located(.invalidUTF8(Self.continuationProblem(next)), at: consumed + i + 1)
                    }
                    var k = 1
                    while true {
                        if nearLimit && length &+ k &+ 1 > limits.maxStringBytes {
                            throw located(.stringTooLong(limit: limits.maxStringBytes), at: tokenStart)
                        }
                        k += 1
                        if k > needed { break }
                        next = p[i + k]
                        guard next & 0xC0 == 0x80 else {
                            throw located(.invalidUTF8(Self.continuationProblem(next)), at: consumed + i + k)
                        }
                    }
                    i += needed + 1
                    continue
                }
                // Split across chunks: keep the lead byte and finish byte by byte.
                try append(p, segment, i + 1)
                pending = .utf8
                utf8Remaining = needed
                i += 1
                break
            }
        }
    }

    static func continuationProblem(_ byte: UInt8) -> String {
        if byte & 0xC0 == 0x80 {
            return
                "continuation byte \(JSONError.describe(byte)) out of range (overlong form, surrogate or above U+10FFFF)"
        }
        return "truncated multi-byte sequence (\(JSONError.describe(byte)) is not a continuation byte)"
    }

    /// Validates a lead byte and sets the allowed range of its first continuation byte;
    /// returns the number of continuation bytes.
    @inline(__always)
    mutating func beginUTF8(_ lead: UInt8, at i: Int) throws(JSONError) -> Int {
        utf8Low = 0x80
        utf8High = 0xBF
        switch lead {
        case 0xC2...0xDF:
            return 1
        case 0xE0:
            utf8Low = 0xA0
            return 2
        case 0xED:
            utf8High = 0x9F
            return 2
        case 0xE1...0xEC, 0xEE...0xEF:
            return 2
        case 0xF0:
            utf8Low = 0x90
            return 3
        case 0xF1...0xF3:
            return 3
        case 0xF4:
            utf8High = 0x8F
            return 3
        case 0xC0, 0xC1:
            throw located(.invalidUTF8("overlong lead byte \(JSONError.describe(lead))"), at: consumed + i)
        case 0x80...0xBF:
            throw located(.invalidUTF8("unexpected continuation byte \(JSONError.describe(lead))"), at: consumed + i)
        default:
            throw located(.invalidUTF8("invalid lead byte \(JSONError.describe(lead))"), at: consumed + i)
        }
    }

    /// Handles one byte while an escape, a surrogate pair or a UTF-8 sequence is in progress.
    /// Returns whether the byte was consumed (a byte after a lone high surrogate is not).
    @inline(__always)
    mutating func stepPending(_ b: UInt8, at i: Int) throws(JSONError) -> Bool {
        switch pending {
        case .none:
            return false
        case .utf8:
            guard b >= utf8Low && b <= utf8High else {
                throw located(.invalidUTF8(Self.continuationProblem(b)), at: consumed + i)
            }
            scratch.append(b)
            utf8Low = 0x80
            utf8High = 0xBF
            utf8Remaining -= 1
            if utf8Remaining == 0 { pending = .none }
            try checkStringLength()
            return true
        case .escape:
            if b == UInt8(ascii: "u") {
                pending = .hex
                escapeValue = 0
                escapeDigits = 0
                return true
            }
            let decoded: UInt8
            switch b {
            case UInt8(ascii: "\""): decoded = 0x22
            case UInt8(ascii: "\\"): decoded = 0x5C
            case UInt8(ascii: "/"): decoded = 0x2F
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            default:
                throw located(.invalidEscape("'\\' followed by \(JSONError.describe(b))"), at: consumed + i)
            }
            flushLoneHighSurrogate()
            scratch.append(decoded)
            pending = .none
            try checkStringLength()
            return true
        case .hex:
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b &- UInt8(ascii: "A") &+ 10)
            default:
                throw located(
                    .invalidEscape("'\\u' needs 4 hex digits, found \(JSONError.describe(b))"),
                    at: consumed + i
                )
            }
            escapeValue = escapeValue << 4 | digit
            escapeDigits += 1
            if escapeDigits == 4 {
                pending = .none
                try codePoint(escapeValue)
            }
            return true
        case .afterHighSurrogate:
            if b == Self.backslash {
                pending = .escape
                return true
            }
            flushLoneHighSurrogate()
            pending = .none
            return false
        }
    }

    /// Appends the code point of a `\uXXXX` escape, pairing surrogates.
    mutating func codePoint(_ value: UInt32) throws(JSONError) {
        if highSurrogate != 0 {
            if value >= 0xDC00 && value <= 0xDFFF {
                let scalar = 0x10000 + ((highSurrogate - 0xD800) << 10) + (value - 0xDC00)
                highSurrogate = 0
                appendScalar(scalar)
                try checkStringLength()
                return
            }
            flushLoneHighSurrogate()
        }
        switch value {
        case 0xD800...0xDBFF:
            highSurrogate = value
            pending = .afterHighSurrogate
        case 0xDC00...0xDFFF:
            appendScalar(0xFFFD)
        default:
            appendScalar(value)
        }
        try checkStringLength()
    }

    /// A high surrogate not followed by a low one becomes U+FFFD.
    @inline(__always)
    mutating func flushLoneHighSurrogate() {
        if highSurrogate != 0 {
            highSurrogate = 0
            appendScalar(0xFFFD)
        }
    }

    /// Appends the UTF-8 form of a scalar value to `scratch`.
    mutating func appendScalar(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Moves `p[from..<to]` into `scratch` (the token continues past an escape or the chunk).
    @inline(__always)
    mutating func append(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) throws(JSONError) {
        if !buffering {
            buffering = true
            scratch.removeAll()
        }
        if to > from {
            appendToScratch(p, from, to)
            try checkStringLength()
        }
    }

    @inline(__always)
    func checkStringLength() throws(JSONError) {
        if scratch.count > limits.maxStringBytes {
            throw located(.stringTooLong(limit: limits.maxStringBytes), at: tokenStart)
        }
    }

    /// Hands the finished string (or key) to the handler and moves on.
    @inline(__always)
    mutating func deliverString(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) throws(JSONError) {
        do throws(JSONError) {
            if buffering {
                try append(p, from, to)
                buffering = false
                try handScratch(asKey: stringIsKey)
            } else {
                guard to - from <= limits.maxStringBytes else {
                    throw located(.stringTooLong(limit: limits.maxStringBytes), at: tokenStart)
                }
                let bytes = UnsafeRawBufferPointer(start: p + from, count: to - from)
                if stringIsKey { try handler.key(bytes) } else { try handler.string(bytes) }
            }
        } catch {
            throw locate(error)
        }
        if stringIsKey {
            mode = .colon
        } else {
            valueDone()
        }
    }
}

extension JSONTokenizer {
    /// Hands the buffered token to the handler as a key, a string or (with `number`) a number.
    mutating func handScratch(asKey: Bool, number: Bool = false) throws(JSONError) {
        let bytes = scratch.bytes
        if number {
            try handler.number(bytes)
        } else if asKey {
            try handler.key(bytes)
        } else {
            try handler.string(bytes)
        }
    }
}

extension JSONTokenizer {
    /// Copies `p[from..<to]` to the end of `scratch`.
    @inline(__always)
    mutating func appendToScratch(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) {
        if to - from == 1 {
            scratch.append(p[from])
        } else {
            scratch.append(p + from, count: to - from)
        }
    }
}
