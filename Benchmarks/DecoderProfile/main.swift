// A plain driver for profiling the decoder (perf, valgrind --tool=callgrind) without the
// benchmark harness around it: builds the corpus, decodes it `rounds` times at the given chunk
// size and prints MB/s per round. Built only with BENCHMARKS=1.
//
//   .build-bench/release/DecoderProfile [corpus MB] [chunk bytes] [rounds]
import StreamingJSON
import UCWA
import UCWACorpus

#if canImport(Glibc)
import Glibc
#endif

struct Consumer: EventBatchConsumer {
    var events = 0
    var checksum = 0
    mutating func event(_ event: UCWAEvent) {
        events += 1
        checksum &+= event.link.href.utf8.count &+ (event.invitation?.state?.utf8.count ?? 0)
    }
    mutating func batchLink(_ kind: BatchLinkKind, href: String) {}
    mutating func baseURI(_ uri: String) {}
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let megabytes = arguments.count > 0 ? arguments[0] : 30
let chunk = arguments.count > 1 ? arguments[1] : 65536
let rounds = arguments.count > 2 ? arguments[2] : 5
let corpus = CorpusGenerator.corpus(bytes: megabytes << 20, seed: 42)
let bytes = corpus.reduce(0) { $0 + $1.count }

@inline(never)
func decodeAll() -> Int {
    var total = 0
    var decoder = EventBatchDecoder(consumer: Consumer())
    for batch in corpus {
        decoder.reset()
        batch.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + chunk, raw.count)
                try! decoder.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try! decoder.finish()
    }
    total += decoder.consumer.events
    if decoder.consumer.checksum == 42 { print("") }
    return total
}

for _ in 0..<rounds {
    let clock = ContinuousClock()
    var events = 0
    let elapsed = clock.measure { events = decodeAll() }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(bytes) bytes, \(events) events, \(Int(Double(bytes) / 1e6 / seconds)) MB/s")
}
