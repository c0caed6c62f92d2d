// libFuzzer target for the tokenizer, built only by `make fuzz` (FUZZING=1 adds this target to
// the package and defines FUZZING). The first input byte picks a split point and a chunk size;
// the rest is the document. The document is tokenized whole, split at that point, and in chunks
// of 1–13 bytes, and the outcomes (tokens and error) must be identical: any difference traps,
// and libFuzzer saves the input.
#if FUZZING
import FuzzSupport
import StreamingJSON

/// Folds every token into a running hash: enough to compare two runs without storing them.
struct HashingHandler: JSONTokenHandler {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var tokens = 0

    mutating func mix(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer? = nil) {
        tokens += 1
        hash = (hash ^ UInt64(tag)) &* 0x100_0000_01b3
        if let bytes {
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
    }

    mutating func objectStart() { mix(1) }
    mutating func objectEnd() { mix(2) }
    mutating func arrayStart() { mix(3) }
    mutating func arrayEnd() { mix(4) }
    mutating func key(_ bytes: UnsafeRawBufferPointer) { mix(5, bytes) }
    mutating func string(_ bytes: UnsafeRawBufferPointer) {
        // Every string handed on must be valid UTF-8.
        precondition(String(validating: bytes, as: UTF8.self) != nil, "invalid UTF-8 handed on")
        mix(6, bytes)
    }
    mutating func number(_ bytes: UnsafeRawBufferPointer) { mix(7, bytes) }
    mutating func bool(_ value: Bool) { mix(value ? 8 : 9) }
    mutating func null() { mix(10) }
}

/// Tokenizes `document` split at `split`, the second part further cut into `chunk`-byte pieces.
func run(_ document: UnsafeRawBufferPointer, split: Int, chunk: Int = Int.max) -> (UInt64, Int, JSONError?) {
    var tokenizer = JSONTokenizer(handler: HashingHandler(), limits: JSONLimits(maxDepth: 32, maxStringBytes: 4096))
    do {
        try tokenizer.feed(UnsafeRawBufferPointer(rebasing: document[0..<split]))
        var offset = split
        while offset < document.count {
            let end = offset + min(chunk, document.count - offset)
            try tokenizer.feed(UnsafeRawBufferPointer(rebasing: document[offset..<end]))
            offset = end
        }
        try tokenizer.finish()
        return (tokenizer.handler.hash, tokenizer.handler.tokens, nil)
    } catch {
        return (tokenizer.handler.hash, tokenizer.handler.tokens, error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
package func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let document = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let split = document.isEmpty ? 0 : Int(data[0]) % (document.count + 1)
    let whole = run(document, split: document.count)
    let parts = run(document, split: split)
    precondition(
        whole.0 == parts.0 && whole.1 == parts.1 && whole.2 == parts.2,
        "split at \(split) changed the outcome"
    )
    let pieces = run(document, split: 0, chunk: Int(data[0] % 13) + 1)
    precondition(whole.0 == pieces.0 && whole.1 == pieces.1 && whole.2 == pieces.2, "small chunks changed the outcome")
    // Errors must be located inside the document.
    if let error = whole.2 {
        precondition(error.offset >= 0 && error.offset <= document.count, "error offset out of range: \(error)")
        precondition(error.line >= 1 && error.column >= 1, "bad position: \(error)")
    }
    return 0
}

@_cdecl("FuzzTokenizer_main")
package func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzTokenizer)
}
#else
@main
struct FuzzTokenizer {
    static func main() {
        print("FuzzTokenizer is a libFuzzer target: run `make fuzz`.")
    }
}
#endif
