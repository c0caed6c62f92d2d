// libFuzzer target for the UCWA event-batch decoder, built only by `make fuzz`. The input is
// decoded whole and in 7-byte chunks; both runs must agree on the events, the links and the
// error. Traps (crashes, precondition failures) are what libFuzzer reports.
#if FUZZING
import FuzzSupport
import StreamingJSON
import UCWA

func decode(_ bytes: UnsafeRawBufferPointer, chunk: Int) -> (EventBatchCollector, JSONError?) {
    var decoder = EventBatchDecoder(
        consumer: EventBatchCollector(),
        limits: JSONLimits(maxDepth: 32, maxStringBytes: 4096, maxDocumentBytes: 1 << 20)
    )
    do {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            offset = end
        }
        try decoder.finish()
        return (decoder.consumer, nil)
    } catch {
        return (decoder.consumer, error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
package func fuzzBatchDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let whole = decode(bytes, chunk: max(1, size))
    let chunked = decode(bytes, chunk: 7)
    precondition(whole.0.events == chunked.0.events, "chunking changed the events")
    precondition(whole.0.links == chunked.0.links, "chunking changed the links")
    precondition(
        whole.1 == chunked.1,
        "chunking changed the error: \(String(describing: whole.1)) vs \(String(describing: chunked.1))"
    )
    return 0
}

@_cdecl("FuzzBatchDecoder_main")
package func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzBatchDecoder)
}
#else
@main
struct FuzzBatchDecoder {
    static func main() {
        print("FuzzBatchDecoder is a libFuzzer target: run `make fuzz`.")
    }
}
#endif
