/// Number scanning by the RFC 8259 §6 grammar:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
/// A number has no closing delimiter, so it ends at the first byte the grammar does not allow;
/// that byte is then read again as structure. At the end of input `finish()` completes it.
extension JSONTokenizer {
    /// Scans number bytes from `start`; `lexemeStart` is where the lexeme began in this chunk
    /// (`nil`-like `-1` when it began in an earlier chunk and sits in `scratch`).
    @inline(__always)
    mutating func scanNumber(
        _ p: UnsafePointer<UInt8>,
        _ start: Int,
        _ count: Int,
        lexemeStart: Int = 0
    ) throws(JSONError) -> Int {
        var i = start
        // Bytes of the lexeme allowed before the limit, counting those kept from earlier chunks;
        // checked byte by byte so that the limit error comes at the same byte however the input
        // is split.
        let allowed = limits.maxStringBytes &- (buffering ? scratch.count : 0) &+ lexemeStart
        while i < count {
            let b = p[i]
            let isDigit = b &- UInt8(ascii: "0") < 10
            switch numberPhase {
            case .afterMinus:
                guard isDigit else {
                    throw located(.unexpectedByte(b, expected: "a digit after '-'"), at: consumed + i)
                }
                numberPhase = b == UInt8(ascii: "0") ? .afterZero : .integer
            case .afterZero:
                if isDigit {
                    throw located(
                        .unexpectedByte(b, expected: "'.', 'e' or the end of the number (no leading zeros)"),
                        at: consumed + i
                    )
                } else if b == UInt8(ascii: ".") {
                    numberPhase = .afterDot
                } else if b | 0x20 == UInt8(ascii: "e") {
                    numberPhase = .afterE
                } else {
                    try completeNumber(p, lexemeStart, i)
                    return i
                }
            case .integer:
                if isDigit {
                } else if b == UInt8(ascii: ".") {
                    numberPhase = .afterDot
                } else if b | 0x20 == UInt8(ascii: "e") {
                    numberPhase = .afterE
                } else {
                    try completeNumber(p, lexemeStart, i)
                    return i
                }
            case .afterDot:
                guard isDigit else {
                    throw located(.unexpectedByte(b, expected: "a digit after '.'"), at: consumed + i)
                }
                numberPhase = .fraction
            case .fraction:
                if isDigit {
                } else if b | 0x20 == UInt8(ascii: "e") {
                    numberPhase = .afterE
                } else {
                    try completeNumber(p, lexemeStart, i)
                    return i
                }
            case .afterE:
                if b == UInt8(ascii: "+") || b == UInt8(ascii: "-") {
                    numberPhase = .afterExponentSign
                } else if isDigit {
                    numberPhase = .exponent
                } else {
                    throw located(.unexpectedByte(b, expected: "a digit or sign in the exponent"), at: consumed + i)
                }
            case .afterExponentSign:
                guard isDigit else {
                    throw located(.unexpectedByte(b, expected: "a digit in the exponent"), at: consumed + i)
                }
                numberPhase = .exponent
            case .exponent:
                if !isDigit {
                    try completeNumber(p, lexemeStart, i)
                    return i
                }
            }
            // The byte belongs to the number.
            if i >= allowed {
                throw located(.numberTooLong(limit: limits.maxStringBytes), at: tokenStart)
            }
            i += 1
        }
        // The chunk ended inside the number: keep what we have.
        try appendNumber(p, lexemeStart, count)
        return count
    }

    @inline(__always)
    mutating func appendNumber(_ p: UnsafePointer<UInt8>, _ from: Int, _ to: Int) throws(JSONError) {
        if !buffering {
            buffering = true
            scratch.removeAll()
        }
        appendToScratch(p, from, to)
        if scratch.count > limits.maxStringBytes {
            throw located(.numberTooLong(limit: limits.maxStringBytes), at: tokenStart)
        }
    }

    /// Hands the finished number to the handler. With `p == nil` (end of input) the lexeme is
    /// entirely in `scratch`.
    mutating func completeNumber(_ p: UnsafePointer<UInt8>?, _ from: Int, _ to: Int) throws(JSONError) {
        guard numberPhase.canEnd else {
            preconditionFailure("completeNumber in a non-final phase")
        }
        do throws(JSONError) {
            if buffering {
                if let p { try appendNumber(p, from, to) }
                buffering = false
                try handScratch(asKey: false, number: true)
            } else if let p {
                guard to - from <= limits.maxStringBytes else {
                    throw located(.numberTooLong(limit: limits.maxStringBytes), at: tokenStart)
                }
                try handler.number(UnsafeRawBufferPointer(start: p + from, count: to - from))
            }
        } catch {
            throw locate(error)
        }
        valueDone()
    }
}
