import Testing

@testable import StreamingJSON

/// Behaviour of the tokenizer on hand-written inputs: tokens, escapes, errors with their
/// positions, and limits.
@Suite struct JSONTokenizerTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func tokensOfASmallDocument() {
        let outcome = tokenize(bytes(#"{"a":[1,-2.5e+3,true,false,null,"x"],"b":{}}"#))
        #expect(outcome.error == nil)
        #expect(
            outcome.tokens == [
                .objectStart, .key(bytes("a")), .arrayStart, .number(bytes("1")), .number(bytes("-2.5e+3")),
                .bool(true), .bool(false), .null, .string(bytes("x")), .arrayEnd, .key(bytes("b")),
                .objectStart, .objectEnd, .objectEnd,
            ]
        )
    }

    @Test func escapesAreDecoded() {
        let outcome = tokenize(bytes(#"["\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00"]"#))
        #expect(outcome.error == nil)
        #expect(outcome.tokens[1] == .string(Array("\"\\/\u{8}\u{C}\n\r\tAé€😀".utf8)))
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() {
        let cases: [(String, String)] = [
            (#"["\uD800"]"#, "\u{FFFD}"),
            (#"["\uDC00x"]"#, "\u{FFFD}x"),
            (#"["\uD800\n"]"#, "\u{FFFD}\n"),
            (#"["\uD800\u0041"]"#, "\u{FFFD}A"),
            (#"["\uD800\uD800\uDC00"]"#, "\u{FFFD}\u{10000}"),
            (#"["\uDE00\uD83D"]"#, "\u{FFFD}\u{FFFD}"),
        ]
        for (input, expected) in cases {
            let whole = tokenize(bytes(input))
            #expect(whole.tokens.count == 3 && whole.tokens[1] == .string(Array(expected.utf8)), "\(input)")
            #expect(tokenizeBytewise(bytes(input)) == whole, "\(input) split")
        }
    }

    @Test func byteOrderMarkIsSkipped() {
        let outcome = tokenize([0xEF, 0xBB, 0xBF] + bytes("{}"))
        #expect(outcome.error == nil)
        #expect(outcome.tokens == [.objectStart, .objectEnd])
        #expect(tokenize([0xEF, 0xBB] + bytes("{}")).error?.kind == .invalidUTF8("incomplete byte-order mark"))
        // Only at the very start.
        #expect(tokenize(bytes(" ") + [0xEF, 0xBB, 0xBF] + bytes("{}")).error != nil)
    }

    @Test func errorsNameLineColumnAndOffset() throws {
        let text = "{\n  \"a\": 1,\n  ,\n}"
        let error = try #require(tokenize(bytes(text)).error)
        #expect(error.offset == 14)
        #expect(error.line == 3)
        #expect(error.column == 3)
        #expect(error.kind == .unexpectedByte(UInt8(ascii: ","), expected: "a string key"))
        #expect(error.description == "line 3, column 3 (byte 14): expected a string key, found ','")
    }

    @Test func errorMessagesSayWhatWasExpected() {
        let cases: [(String, String)] = [
            ("", "line 1, column 1 (byte 0): unexpected end of input, expected a JSON value"),
            ("[1,]", "line 1, column 4 (byte 3): expected a value, found ']'"),
            ("{\"a\" 1}", "line 1, column 6 (byte 5): expected ':', found '1'"),
            ("[1 2]", "line 1, column 4 (byte 3): expected ',' or ']', found '2'"),
            ("{} x", "line 1, column 4 (byte 3): expected end of input after the top-level value, found 'x'"),
            (
                "[01]",
                "line 1, column 3 (byte 2): expected '.', 'e' or the end of the number (no leading zeros), found '1'"
            ),
            ("[1.]", "line 1, column 4 (byte 3): expected a digit after '.', found ']'"),
            ("[tru]", "line 1, column 5 (byte 4): expected 'true', found ']'"),
            ("[\"a\tb\"]", "line 1, column 4 (byte 3): unescaped control character tab in string"),
            ("[\"\\x\"]", "line 1, column 4 (byte 3): invalid escape: '\\' followed by 'x'"),
            ("[\"\\u12G4\"]", "line 1, column 7 (byte 6): invalid escape: '\\u' needs 4 hex digits, found 'G'"),
            ("{\"a\":1", "line 1, column 7 (byte 6): unexpected end of input, expected ',' or '}'"),
            ("[\"abc", "line 1, column 6 (byte 5): unexpected end of input, expected the closing '\"' of the string"),
            ("-", "line 1, column 2 (byte 1): unexpected end of input, expected a digit"),
        ]
        for (input, expected) in cases {
            let whole = tokenize(bytes(input))
            #expect(whole.error?.description == expected, "\(input)")
            #expect(tokenizeBytewise(bytes(input)) == whole, "\(input) split")
        }
    }

    @Test func invalidUTF8IsRejectedAtTheOffendingByte() throws {
        let cases: [([UInt8], Int)] = [
            ([0x22, 0xC0, 0xAF, 0x22], 1),  // overlong '/'
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 2),  // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 2),  // encoded surrogate
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 2),  // above U+10FFFF
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1),  // invalid lead
            ([0x22, 0x80, 0x22], 1),  // stray continuation
            ([0x22, 0xE2, 0x82, 0x22], 3),  // truncated
            ([0x22, 0xE2, 0x82], 3),  // truncated at end of input
        ]
        for (input, offset) in cases {
            let whole = tokenize(input)
            let error = try #require(whole.error, "\(input) accepted")
            #expect(error.offset == offset, "\(input): \(error)")
            #expect(tokenizeBytewise(input) == whole, "\(input) split")
        }
        // Valid sequences of every length pass, split or not.
        let valid = Array("\"aé€😀\u{10FFFF}\u{D7FF}\u{E000}\"".utf8)
        #expect(tokenize(valid).error == nil)
        #expect(tokenizeBytewise(valid) == tokenize(valid))
    }

    @Test func depthLimit() throws {
        let deep = Array(repeating: UInt8(ascii: "["), count: 64) + Array(repeating: UInt8(ascii: "]"), count: 64)
        #expect(tokenize(deep).error == nil)
        let tooDeep = [UInt8(ascii: "[")] + deep + [UInt8(ascii: "]")]
        let error = try #require(tokenize(tooDeep).error)
        #expect(error.kind == .depthLimitExceeded(limit: 64))
        #expect(error.offset == 64)
        #expect(tokenize(deep, limits: JSONLimits(maxDepth: 8)).error?.kind == .depthLimitExceeded(limit: 8))
    }

    @Test func stringLimitCountsDecodedBytes() throws {
        let limits = JSONLimits(maxStringBytes: 8)
        #expect(tokenize(bytes(#"["12345678"]"#), limits: limits).error == nil)
        let error = try #require(tokenize(bytes(#"[0, "123456789"]"#), limits: limits).error)
        #expect(error.kind == .stringTooLong(limit: 8))
        #expect(error.offset == 4)
        #expect(tokenizeBytewise(bytes(#"[0, "123456789"]"#), limits: limits).error == error)
        // Escapes count as the bytes they decode to.
        #expect(tokenize(bytes(#"["\u00e9\u00e9\u00e9\u00e9"]"#), limits: limits).error == nil)
        #expect(tokenize(bytes(#"["\u00e9\u00e9\u00e9\u00e9x"]"#), limits: limits).error != nil)
        #expect(tokenize(bytes("[123456789]"), limits: limits).error?.kind == .numberTooLong(limit: 8))
    }

    @Test func documentLimit() throws {
        let limits = JSONLimits(maxDocumentBytes: 10)
        #expect(tokenize(bytes("[1,2,3,4] "), limits: limits).error == nil)
        let error = try #require(tokenize(bytes("[1,2,3,4,5]"), limits: limits).error)
        #expect(error.kind == .documentTooLarge(limit: 10))
        #expect(error.offset == 10)
        #expect(tokenizeBytewise(bytes("[1,2,3,4,5]"), limits: limits).error == error)
    }

    /// A tokenizer copied in the middle of a string (its bytes partly in the fast path's inline
    /// tail, partly in the shared scratch buffer) and fed different endings: each copy sees
    /// only its own bytes (value semantics).
    @Test func aCopyTakenMidStringIsIndependent() throws {
        func feed(_ tokenizer: inout JSONTokenizer<TokenRecorder>, _ text: String) throws {
            for byte in Array(text.utf8) { try tokenizer.feed([byte]) }
        }
        let prefix = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
        let firstMiddle = String(repeating: "1", count: 40)
        let secondMiddle = String(repeating: "2", count: 40)
        var first = JSONTokenizer(handler: TokenRecorder())
        try feed(&first, "[\"" + prefix)
        var second = first
        // Interleaved, each long enough to move its bytes into the scratch buffer.
        try feed(&first, firstMiddle)
        try feed(&second, secondMiddle)
        try feed(&first, "-first\"]")
        try feed(&second, "-second\\u00e9\", 1]")
        try first.finish()
        try second.finish()
        #expect(
            first.handler.tokens == [.arrayStart, .string(Array((prefix + firstMiddle + "-first").utf8)), .arrayEnd]
        )
        #expect(
            second.handler.tokens == [
                .arrayStart, .string(Array((prefix + secondMiddle + "-second\u{e9}").utf8)), .number(Array("1".utf8)),
                .arrayEnd,
            ]
        )
    }

    @Test func failedTokenizerStaysFailed() throws {
        var tokenizer = JSONTokenizer(handler: TokenRecorder())
        #expect(throws: JSONError.self) { try tokenizer.feed(Array("[1,,".utf8)) }
        #expect(throws: JSONError.self) { try tokenizer.feed(Array("2]".utf8)) }
        #expect(throws: JSONError.self) { try tokenizer.finish() }
    }

    @Test func handlerRefusalIsLocatedAtTheToken() throws {
        struct RefuseNumbers: JSONTokenHandler {
            mutating func objectStart() {}
            mutating func objectEnd() {}
            mutating func arrayStart() {}
            mutating func arrayEnd() {}
            mutating func key(_ bytes: UnsafeRawBufferPointer) {}
            mutating func string(_ bytes: UnsafeRawBufferPointer) {}
            mutating func number(_ bytes: UnsafeRawBufferPointer) throws(JSONError) {
                throw .rejected("numbers are not allowed here")
            }
            mutating func bool(_ value: Bool) {}
            mutating func null() {}
        }
        var tokenizer = JSONTokenizer(handler: RefuseNumbers())
        do {
            try tokenizer.feed(Array("[\"a\",\n 42]".utf8))
            try tokenizer.finish()
            Issue.record("accepted")
        } catch {
            #expect(error.description == "line 2, column 2 (byte 7): numbers are not allowed here")
        }
    }

    @Test func valueBuilderAndWriterRoundTrip() throws {
        let text = #"{"a":[1,-2.5e+3,true,false,null,"x\n\u2028é"],"b":{},"a":"last"}"#
        let value = try JSONValue.parse(text)
        #expect(value["a"] == .string("last"))
        #expect(value["b"] == .object([]))
        #expect(value.serialized == #"{"a":[1,-2.5e+3,true,false,null,"x\n\u2028é"],"b":{},"a":"last"}"#)
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test func writerEscapesControlAndBidiCharacters() {
        var writer = JSONWriter()
        writer.string("a\u{1B}[31m\u{202E}b\u{7F}\u{2029}\u{0}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\u001b[31m\u202eb\u007f\u2029\u0000""#)
    }

    /// The eight-byte scan stops exactly at the first byte that is not plain ASCII, wherever it
    /// falls in a word and whatever follows it (borrows must not flag a byte before it).
    @Test func plainASCIISkipStopsAtTheFirstSpecialByte() {
        let specials: [UInt8] = [0x00, 0x01, 0x1F, 0x22, 0x5C, 0x7F, 0x80, 0xC3, 0xE2, 0xFF]
        let fillers: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7E, UInt8(ascii: "a")]
        func reference(_ bytes: [UInt8], _ start: Int) -> Int {
            var i = start
            while i < bytes.count, bytes[i] >= 0x20, bytes[i] < 0x7F, bytes[i] != 0x22, bytes[i] != 0x5C { i += 1 }
            return i
        }
        var mismatches: [String] = []
        for length in 0...24 {
            for filler in fillers {
                var cases: [[UInt8]] = [Array(repeating: filler, count: length)]
                for position in 0..<length {
                    for special in specials {
                        var bytes = Array(repeating: filler, count: length)
                        bytes[position] = special
                        cases.append(bytes)
                        if position + 1 < length {
                            bytes[position + 1] = 0x00  // a second special byte right after
                            cases.append(bytes)
                        }
                    }
                }
                for bytes in cases {
                    for start in 0...min(3, length) {
                        let found = bytes.withUnsafeBytes { PlainASCII.skip($0, from: start, to: bytes.count) }
                        if found != reference(bytes, start) { mismatches.append("\(bytes) from \(start): \(found)") }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// Whatever position a character that needs escaping takes in the eight-byte words, the
    /// written string has no raw control, DEL, line separator or bidi control, and reads back
    /// as the original text.
    @Test func writerEscapesAtEveryPosition() throws {
        let specials = ["\u{0}", "\u{1F}", "\"", "\\", "\u{7F}", "\u{85}", "\u{2028}", "\u{202E}", "é", "日"]
        for position in 0..<20 {
            for special in specials {
                let text =
                    String(repeating: "a", count: position) + special + String(repeating: "b", count: 19 - position)
                var writer = JSONWriter()
                writer.string(text)
                let written = writer.bytes
                #expect(!written.contains { $0 < 0x20 || $0 == 0x7F }, "\(position) \(special.debugDescription)")
                let raw = String(decoding: written, as: UTF8.self)
                #expect(
                    !raw.contains("\u{2028}") && !raw.contains("\u{202E}"),
                    "\(position) \(special.debugDescription)"
                )
                #expect(try JSONValue.parse(raw) == .string(text), "\(position) \(special.debugDescription)")
            }
        }
    }
}

/// Regressions found by fuzzing: limits must fire at the same byte whatever the split.
@Suite struct LimitOrderTests {
    /// A string over the limit with invalid UTF-8 after the limit: the limit error comes first,
    /// whole or split (found by FuzzBatchDecoder: whole reported the UTF-8 error, 7-byte chunks
    /// the limit).
    @Test func stringLimitBeforeLaterUTF8Error() throws {
        let limits = JSONLimits(maxStringBytes: 16)
        let bytes = Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 40) + [0xC7, 0x22, 0x5D]
        let whole = tokenize(bytes, limits: limits)
        #expect(whole.error?.kind == .stringTooLong(limit: 16))
        for size in 1...9 {
            let cuts = Array(stride(from: size, to: bytes.count, by: size))
            #expect(tokenize(bytes, cuts: cuts, limits: limits) == whole, "chunks of \(size)")
        }
    }

    @Test func numberLimitBeforeLaterGrammarError() throws {
        let limits = JSONLimits(maxStringBytes: 8)
        let bytes = Array("[123456789012.x]".utf8)
        let whole = tokenize(bytes, limits: limits)
        #expect(whole.error?.kind == .numberTooLong(limit: 8))
        for size in 1...5 {
            let cuts = Array(stride(from: size, to: bytes.count, by: size))
            #expect(tokenize(bytes, cuts: cuts, limits: limits) == whole, "chunks of \(size)")
        }
        // At the limit exactly, the number is fine.
        #expect(tokenize(Array("[12345678]".utf8), limits: limits).error == nil)
        #expect(tokenize(Array("[-1234567]".utf8), limits: limits).error == nil)
    }

    @Test func stringAtTheLimitIsFine() {
        let limits = JSONLimits(maxStringBytes: 16)
        let exact = Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 16) + Array("\"]".utf8)
        #expect(tokenize(exact, limits: limits).error == nil)
        #expect(tokenizeBytewise(exact, limits: limits).error == nil)
        let over = Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 17) + Array("\"]".utf8)
        #expect(tokenize(over, limits: limits).error?.kind == .stringTooLong(limit: 16))
        #expect(tokenizeBytewise(over, limits: limits) == tokenize(over, limits: limits))
    }
}

extension LimitOrderTests {
    /// A byte that ends the number is not counted against the limit.
    @Test func numberEndsAtTheLimit() {
        let limits = JSONLimits(maxStringBytes: 8)
        let bytes = Array("[12345678-]".utf8)
        let whole = tokenize(bytes, limits: limits)
        #expect(whole.error?.kind == .unexpectedByte(UInt8(ascii: "-"), expected: "',' or ']'"))
        #expect(tokenizeBytewise(bytes, limits: limits) == whole)
    }
}

extension LimitOrderTests {
    /// A multi-byte sequence whose lead byte is the first one over the limit: the limit error,
    /// not the bad continuation byte after it (found by FuzzTokenizer with 1-byte chunks).
    @Test func limitOnTheLeadByteOfASequence() {
        let limits = JSONLimits(maxStringBytes: 8)
        for valid in [true, false] {
            let bytes =
                Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 8) + [0xC3, valid ? 0xA9 : 0x30]
                + Array("\"]".utf8)
            let whole = tokenize(bytes, limits: limits)
            #expect(whole.error?.kind == .stringTooLong(limit: 8))
            for size in 1...6 {
                let cuts = Array(stride(from: size, to: bytes.count, by: size))
                #expect(tokenize(bytes, cuts: cuts, limits: limits) == whole, "chunks of \(size)")
            }
        }
        // One byte short of the limit, a two-byte character overflows on its continuation byte.
        let straddling =
            Array("[\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 7) + [0xC3, 0x30] + Array("\"]".utf8)
        let whole = tokenize(straddling, limits: limits)
        #expect(whole.error?.kind == .invalidUTF8("truncated multi-byte sequence ('0' is not a continuation byte)"))
        #expect(tokenizeBytewise(straddling, limits: limits) == whole)
    }
}
