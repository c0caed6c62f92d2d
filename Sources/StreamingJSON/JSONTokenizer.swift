/// A push-driven, resumable JSON tokenizer (RFC 8259, strict) that hands tokens to a handler.
///
/// Feed it the bytes of one document in chunks of any size — as they come off the socket —
/// with `feed(_:)`, then call `finish()`. Any split of the input, down to one byte at a time,
/// produces exactly the same tokens and the same error as feeding the document whole: the
/// tokenizer is an explicit state machine (`Mode` plus a few counters) that never looks ahead
/// across a chunk boundary, and it buffers nothing beyond the token in progress.
///
/// What it enforces: well-formed UTF-8 everywhere (RFC 3629: no overlongs, no encoded
/// surrogates, nothing above U+10FFFF, no truncated sequences), the number grammar, the escape
/// set, exactly one top-level value with only whitespace around it, and the `JSONLimits`. A
/// leading UTF-8 byte-order mark is accepted and skipped (servers send one). Escaped lone
/// surrogates (`"\uD800"`), which RFC 8259 §8.2 leaves unpredictable, become U+FFFD so that
/// every string handed on is valid UTF-8.
///
/// Errors are `JSONError`s with the byte offset, line and column of the offending byte; once
/// an error is thrown the tokenizer stays failed.
public struct JSONTokenizer<Handler: JSONTokenHandler> {
    /// The consumer of the tokens; read it after `finish()` for its result.
    public var handler: Handler
    /// The limits this tokenizer enforces.
    let limits: JSONLimits

    // Position.
    /// Bytes consumed by earlier `feed` calls (the global offset of the current chunk's start).
    var consumed = 0
    /// 1-based line number of the current position.
    var line = 1
    /// Global offset of the first byte of the current line.
    var lineStart = 0

    // Grammar state.
    var mode: Mode = .start
    /// Open containers, innermost last: `true` for an object, `false` for an array.
    var stack = ContainerStack()
    /// Whether the innermost open container is an object (`stack.last`, kept at hand).
    var inObject = false
    /// The bytes of the token in progress when it spans chunks or contains escapes.
    var scratch = GrowableBytes()
    /// Up to 32 plain string bytes that `feed`'s fast path took and has not yet moved into
    /// `scratch`. They live inside the tokenizer, so copying a tokenizer copies them and the fast
    /// path needs no uniqueness check on `scratch`'s shared storage, which a body fed byte by
    /// byte would pay per byte; `feedGeneral` and `finish` move them into `scratch` first.
    var tail: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var tailCount = 0
    /// How many plain string bytes `feed`'s fast path may still take: 0 unless a string is in
    /// progress, buffered, with no escape or multi-byte sequence pending; then the room left
    /// under the string and document limits. Set by the general path when it returns, so that
    /// the fast path tests one number instead of four fields and two limits.
    var fastRoom = 0
    /// Whether the token in progress has bytes in `scratch`.
    var buffering = false
    /// Global offset where the token in progress began (for errors and refusals).
    var tokenStart = 0

    // String sub-state.
    var stringIsKey = false
    var pending: Pending = .none
    /// Continuation bytes still expected for a UTF-8 sequence split across chunks.
    var utf8Remaining = 0
    /// Allowed range of the next continuation byte (narrower right after E0, ED, F0, F4).
    var utf8Low: UInt8 = 0x80
    var utf8High: UInt8 = 0xBF
    /// `\uXXXX` accumulation.
    var escapeValue: UInt32 = 0
    var escapeDigits = 0
    /// A decoded high surrogate waiting for its low half (0 when none).
    var highSurrogate: UInt32 = 0

    // Number and literal sub-state.
    var numberPhase: NumberPhase = .afterMinus
    var literalBytes: StaticString = "null"
    var literalIndex = 0

    var failure: JSONError?

    /// Creates a tokenizer for one document.
    public init(handler: Handler, limits: JSONLimits = .default) {
        self.handler = handler
        self.limits = limits
    }

    /// Prepares the tokenizer for the next document, keeping its handler and the memory it has
    /// allocated (one tokenizer per connection decodes body after body without reallocating).
    public mutating func reset() {
        consumed = 0
        line = 1
        lineStart = 0
        mode = .start
        stack = ContainerStack()
        inObject = false
        scratch.removeAll()
        tailCount = 0
        fastRoom = 0
        buffering = false
        tokenStart = 0
        stringIsKey = false
        pending = .none
        utf8Remaining = 0
        escapeValue = 0
        escapeDigits = 0
        highSurrogate = 0
        numberPhase = .afterMinus
        literalIndex = 0
        failure = nil
    }

    /// Total bytes fed so far.
    public var bytesConsumed: Int { consumed }

    /// Whether a complete top-level value has been read (only whitespace may follow).
    var isComplete: Bool { mode == .done }

    /// The grammar position between bytes.
    enum Mode: UInt8 {
        /// Before anything: a BOM or a value.
        case start
        /// Inside a BOM: after EF, after EF BB.
        case bom1, bom2
        /// A value must follow (top level, after ':' or after ',' in an array).
        case value
        /// Right after '[': a value or ']'.
        case valueOrArrayEnd
        /// Right after '{': a key or '}'.
        case keyOrObjectEnd
        /// After ',' in an object: a key.
        case key
        /// After a key: ':'.
        case colon
        /// After a value inside a container: ',' or the container's end.
        case afterValue
        /// After the top-level value: whitespace only.
        case done
        case string
        // Token modes handled by their own scanners; keep them last (see `run`).
        case number
        case literal
        case failed
    }

    /// Where a string stands between bytes when it is not in plain content.
    enum Pending: UInt8 {
        case none
        /// After a backslash.
        case escape
        /// Inside `\uXXXX`; `escapeDigits` counts the digits read.
        case hex
        /// Inside a multi-byte UTF-8 sequence; `utf8Remaining` counts what is left.
        case utf8
        /// After a high surrogate escape: `\` must follow for the pair to complete.
        case afterHighSurrogate
    }

    /// Where a number stands between bytes (RFC 8259 §6).
    enum NumberPhase: UInt8 {
        case afterMinus, afterZero, integer, afterDot, fraction, afterE, afterExponentSign, exponent
        /// Whether the lexeme may end here.
        var canEnd: Bool {
            switch self {
            case .afterZero, .integer, .fraction, .exponent: return true
            case .afterMinus, .afterDot, .afterE, .afterExponentSign: return false
            }
        }
    }

    /// Consumes the next chunk of the document. Throws at the first error; a failed tokenizer
    /// rethrows that error on every later call.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        // A body trickling in a few bytes at a time is mostly string content: plain ASCII
        // string bytes are taken here, without the general path's fixed cost per call.
        if bytes.count <= 8 && bytes.count <= fastRoom, let raw = bytes.baseAddress,
            takePlainStringBytes(raw.assumingMemoryBound(to: UInt8.self), bytes.count)
        {
            return
        }
        try feedGeneral(bytes)
    }

    /// Appends `count` bytes to the string in progress if they are all plain ASCII content and
    /// no limit is reached; returns whether it did.
    @inline(__always)
    private mutating func takePlainStringBytes(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        // count ≤ 8 and every sum below is of small non-negative sizes: wrapping arithmetic
        // cannot overflow, so this per-byte path carries no overflow checks.
        var i = 0
        while i < count {
            let b = p[i]
            guard b >= 0x20 && b < 0x80 && b != Self.quote && b != Self.backslash else { return false }
            i &+= 1
        }
        // `count <= fastRoom` was checked by the caller: both limits have room.
        if tailCount &+ count > MemoryLayout.size(ofValue: tail) { moveTailToScratch() }
        let start = tailCount
        withUnsafeMutableBytes(of: &tail) { tail in
            // One byte (a body trickling in byte by byte) stored as such: the loop alone became
            // a call to memcpy in some callers.
            if count == 1 {
                tail[start] = p[0]
                return
            }
            var k = 0
            while k < count {
                tail[start &+ k] = p[k]
                k &+= 1
            }
        }
        tailCount &+= count
        consumed &+= count
        fastRoom &-= count
        return true
    }

    /// Sets `fastRoom` for the state the general path leaves.
    @inline(__always)
    mutating func updateFastRoom() {
        guard mode == .string, pending == .none, buffering else {
            fastRoom = 0
            return
        }
        let stringRoom = limits.maxStringBytes - scratch.count - tailCount
        let documentRoom = limits.maxDocumentBytes.map { $0 - consumed } ?? Int.max
        fastRoom = max(0, min(stringRoom, documentRoom))
    }

    /// Appends the fast path's pending bytes to `scratch` (made unique first).
    @inline(__always)
    mutating func moveTailToScratch() {
        scratch.makeUnique()
        if tailCount > 0 { appendTailToScratch() }
    }

    /// The part of `moveTailToScratch` that runs only when the fast path took bytes: out of
    /// line, so that the general path, which calls the check on every feed, stays small.
    @inline(never)
    mutating func appendTailToScratch() {
        var bytes = tail
        withUnsafeBytes(of: &bytes) { bytes in
            scratch.append(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: tailCount)
        }
        tailCount = 0
    }

    @inline(never)
    private mutating func feedGeneral(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
        guard let raw = bytes.baseAddress, bytes.count > 0 else {
            if let failure { throw failure }
            return
        }
        var count = bytes.count
        if let failure { throw failure }
        var overLimit = false
        if let maxBytes = limits.maxDocumentBytes, consumed + count > maxBytes {
            count = maxBytes - consumed
            overLimit = true
        }
        moveTailToScratch()
        do {
            try run(raw.assumingMemoryBound(to: UInt8.self), count)
        } catch {
            fail(error)
            throw error
        }
        consumed += count
        if overLimit {
            let error = located(.documentTooLarge(limit: limits.maxDocumentBytes ?? 0), at: consumed)
            fail(error)
            throw error
        }
        updateFastRoom()
    }

    /// Consumes a chunk given as an array or other contiguous collection.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(JSONError) {
        let result: JSONError?? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(JSONError) { try feed(UnsafeRawBufferPointer(buffer)) } catch { return error }
            return nil
        }
        if let result {
            if let error = result { throw error }
            return
        }
        let copy = Array(bytes)
        var failure: JSONError?
        copy.withUnsafeBytes { buffer in
            do throws(JSONError) { try feed(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Declares the end of the document: completes a trailing number and checks that exactly
    /// one value was read.
    public mutating func finish() throws(JSONError) {
        if let failure { throw failure }
        fastRoom = 0
        moveTailToScratch()
        do {
            try finishDocument()
        } catch {
            fail(error)
            throw error
        }
    }

    mutating func fail(_ error: JSONError) {
        failure = error
        mode = .failed
        fastRoom = 0
    }

    private mutating func finishDocument() throws(JSONError) {
        switch mode {
        case .done:
            return
        case .number:
            guard numberPhase.canEnd else {
                throw located(.unexpectedEnd(expected: "a digit"), at: consumed)
            }
            try completeNumber(nil, 0, 0)
            if mode != .done {
                throw located(.unexpectedEnd(expected: closerDescription()), at: consumed)
            }
        case .start, .bom1, .bom2, .value:
            throw located(.unexpectedEnd(expected: stack.isEmpty ? "a JSON value" : "a value"), at: consumed)
        case .valueOrArrayEnd:
            throw located(.unexpectedEnd(expected: "a value or ']'"), at: consumed)
        case .keyOrObjectEnd:
            throw located(.unexpectedEnd(expected: "a string key or '}'"), at: consumed)
        case .key:
            throw located(.unexpectedEnd(expected: "a string key"), at: consumed)
        case .colon:
            throw located(.unexpectedEnd(expected: "':'"), at: consumed)
        case .afterValue:
            throw located(.unexpectedEnd(expected: closerDescription()), at: consumed)
        case .string:
            if pending == .utf8 {
                throw located(.invalidUTF8("truncated multi-byte sequence"), at: consumed)
            }
            throw located(.unexpectedEnd(expected: "the closing '\"' of the string"), at: consumed)
        case .literal:
            throw located(.unexpectedEnd(expected: "the rest of '\(literalBytes)'"), at: consumed)
        case .failed:
            throw failure ?? located(.unexpectedEnd(expected: "a JSON value"), at: consumed)
        }
    }

    /// What may close the innermost container, for messages.
    func closerDescription() -> String {
        guard let top = stack.top else { return "end of input" }
        return top ? "',' or '}'" : "',' or ']'"
    }

    /// An error at a global offset, with its line and column.
    func located(_ kind: JSONError.Kind, at offset: Int) -> JSONError {
        JSONError(kind, offset: offset, line: line, column: offset - lineStart + 1)
    }

    /// Adds the position of the current token to a handler's refusal.
    func locate(_ error: JSONError) -> JSONError {
        if error.isLocated { return error }
        return located(error.kind, at: tokenStart)
    }

    // MARK: - The byte loop

    /// Runs the state machine over `count` bytes at `p` (global offset `consumed`).
    ///
    /// Modes are tested with ordered conditional branches, most frequent first, rather than one
    /// `switch`: on real batches this keeps the branch predictor on track (an indirect jump per
    /// token mispredicts often).
    @inline(__always)
    private mutating func run(_ p: UnsafePointer<UInt8>, _ count: Int) throws(JSONError) {
        var i = 0
        while i < count {
            if mode == .string {
                i = try scanString(p, i, count)
                continue
            }
            if mode.rawValue >= Mode.number.rawValue {
                switch mode {
                case .number: i = try scanNumber(p, i, count)
                case .literal: i = try scanLiteral(p, i, count)
                case .failed: throw failure ?? located(.unexpectedEnd(expected: "a JSON value"), at: consumed + i)
                case .start, .bom1, .bom2, .value, .valueOrArrayEnd, .keyOrObjectEnd, .key, .colon, .afterValue,
                    .done, .string:
                    preconditionFailure("token mode expected")
                }
                continue
            }
            if mode == .bom1 || mode == .bom2 {
                i = try scanBOM(p, i)
                continue
            }
            // Structural positions: skip whitespace, then one structural byte.
            var b = p[i]
            while b <= 0x20 {
                if b == 0x20 || b == 0x09 || b == 0x0D {
                } else if b == 0x0A {
                    line += 1
                    lineStart = consumed + i + 1
                } else {
                    break
                }
                i += 1
                if i == count { return }
                b = p[i]
            }
            i = try structural(b, p, i, count)
        }
    }

    /// Handles one non-whitespace byte at a structural position; returns the next index.
    @inline(__always)
    private mutating func structural(
        _ b: UInt8,
        _ p: UnsafePointer<UInt8>,
        _ i: Int,
        _ count: Int
    ) throws(JSONError) -> Int {
        if mode == .afterValue {
            if b == UInt8(ascii: ",") {
                mode = inObject ? .key : .value
                return i + 1
            }
            if b == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                tokenStart = consumed + i
                try closeContainer(object: inObject)
                return i + 1
            }
            throw located(.unexpectedByte(b, expected: closerDescription()), at: consumed + i)
        }
        if mode == .key || mode == .keyOrObjectEnd {
            if b == UInt8(ascii: "\"") {
                beginString(at: i, key: true)
                return i + 1
            }
            if b == UInt8(ascii: "}") && mode == .keyOrObjectEnd {
                tokenStart = consumed + i
                try closeContainer(object: true)
                return i + 1
            }
            throw located(
                .unexpectedByte(b, expected: mode == .key ? "a string key" : "a string key or '}'"),
                at: consumed + i
            )
        }
        if mode == .colon {
            guard b == UInt8(ascii: ":") else {
                throw located(.unexpectedByte(b, expected: "':'"), at: consumed + i)
            }
            mode = .value
            return i + 1
        }
        if mode == .done {
            throw located(.trailingContent(b), at: consumed + i)
        }
        // .value, .valueOrArrayEnd, .start
        if b == UInt8(ascii: "]") && mode == .valueOrArrayEnd {
            tokenStart = consumed + i
            try closeContainer(object: false)
            return i + 1
        }
        if b == 0xEF && mode == .start && consumed + i == 0 {
            mode = .bom1
            return i + 1
        }
        return try beginValue(b, p, i, count)
    }

    /// Enters a string whose opening quote is at `i`.
    @inline(__always)
    mutating func beginString(at i: Int, key: Bool) {
        tokenStart = consumed &+ i
        stringIsKey = key
        mode = .string
        buffering = false
    }

    /// Starts the value whose first byte is `b`.
    @inline(__always)
    private mutating func beginValue(
        _ b: UInt8,
        _ p: UnsafePointer<UInt8>,
        _ i: Int,
        _ count: Int
    ) throws(JSONError) -> Int {
        tokenStart = consumed + i
        switch b {
        case UInt8(ascii: "\""):
            beginString(at: i, key: false)
            return i + 1
        case UInt8(ascii: "{"):
            try openContainer(object: true, at: i)
            return i + 1
        case UInt8(ascii: "["):
            try openContainer(object: false, at: i)
            return i + 1
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            mode = .number
            buffering = false
            numberPhase = b == UInt8(ascii: "-") ? .afterMinus : (b == UInt8(ascii: "0") ? .afterZero : .integer)
            return try scanNumber(p, i + 1, count, lexemeStart: i)
        case UInt8(ascii: "t"):
            return try beginLiteral("true", p, i, count)
        case UInt8(ascii: "f"):
            return try beginLiteral("false", p, i, count)
        case UInt8(ascii: "n"):
            return try beginLiteral("null", p, i, count)
        default:
            let expected = mode == .valueOrArrayEnd ? "a value or ']'" : (stack.isEmpty ? "a JSON value" : "a value")
            throw located(.unexpectedByte(b, expected: expected), at: consumed + i)
        }
    }

    @inline(__always)
    private mutating func openContainer(object: Bool, at i: Int) throws(JSONError) {
        guard stack.count < limits.maxDepth else {
            throw located(.depthLimitExceeded(limit: limits.maxDepth), at: consumed + i)
        }
        stack.push(object: object)
        inObject = object
        do {
            if object { try handler.objectStart() } else { try handler.arrayStart() }
        } catch {
            throw locate(error)
        }
        mode = object ? .keyOrObjectEnd : .valueOrArrayEnd
    }

    @inline(__always)
    private mutating func closeContainer(object: Bool) throws(JSONError) {
        stack.pop()
        inObject = stack.top ?? false
        do {
            if object { try handler.objectEnd() } else { try handler.arrayEnd() }
        } catch {
            throw locate(error)
        }
        valueDone()
    }

    /// Moves on after a complete value.
    @inline(__always)
    mutating func valueDone() {
        mode = stack.isEmpty ? .done : .afterValue
    }

    private mutating func scanBOM(_ p: UnsafePointer<UInt8>, _ i: Int) throws(JSONError) -> Int {
        let b = p[i]
        if mode == .bom1 {
            guard b == 0xBB else { throw located(.invalidUTF8("incomplete byte-order mark"), at: consumed + i) }
            mode = .bom2
        } else {
            guard b == 0xBF else { throw located(.invalidUTF8("incomplete byte-order mark"), at: consumed + i) }
            mode = .value
        }
        return i + 1
    }

    // MARK: - Literals

    @inline(__always)
    private mutating func beginLiteral(
        _ literal: StaticString,
        _ p: UnsafePointer<UInt8>,
        _ i: Int,
        _ count: Int
    ) throws(JSONError) -> Int {
        literalBytes = literal
        literalIndex = 1
        mode = .literal
        return try scanLiteral(p, i + 1, count)
    }

    private mutating func scanLiteral(_ p: UnsafePointer<UInt8>, _ start: Int, _ count: Int) throws(JSONError) -> Int {
        var i = start
        let expected = literalBytes.utf8Start
        let length = literalBytes.utf8CodeUnitCount
        while i < count && literalIndex < length {
            guard p[i] == expected[literalIndex] else {
                throw located(.unexpectedByte(p[i], expected: "'\(literalBytes)'"), at: consumed + i)
            }
            literalIndex += 1
            i += 1
        }
        if literalIndex == length {
            do {
                switch length {
                case 4 where expected[0] == UInt8(ascii: "t"): try handler.bool(true)
                case 5: try handler.bool(false)
                default: try handler.null()
                }
            } catch {
                throw locate(error)
            }
            valueDone()
        }
        return i
    }
}
