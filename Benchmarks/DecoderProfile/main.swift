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
        checksum &+= touch(event)
    }
    mutating func batchLink(_ kind: BatchLinkKind, href: String) {}
    mutating func baseURI(_ uri: String) {}
}

/// Touches every field of the event model, as a consumer writing records would.
@inline(__always)
func touch(_ event: UCWAEvent) -> Int {
    var sum = event.link.href.utf8Count &+ event.link.rel.utf8Count &+ (event.link.title?.utf8Count ?? 0)
    sum &+= event.sender.rel.utf8Count &+ event.sender.href.utf8Count
    if let link = event.in { sum &+= link.href.utf8Count &+ link.rel.utf8Count }
    sum &+= event.status?.utf8Count ?? 0
    if let reason = event.reason {
        sum &+= reason.code.utf8Count &+ (reason.subcode?.utf8Count ?? 0) &+ (reason.message?.utf8Count ?? 0)
    }
    if case .invitation(let invitation) = event.embedded {
        sum &+= (invitation.state?.utf8Count ?? 0) &+ (invitation.direction?.utf8Count ?? 0)
        sum &+= (invitation.importance?.utf8Count ?? 0) &+ (invitation.operationId?.utf8Count ?? 0)
        sum &+= (invitation.subject?.utf8Count ?? 0) &+ (invitation.threadId?.utf8Count ?? 0)
        sum &+= (invitation.to?.utf8Count ?? 0) &+ (invitation.conversationHref?.utf8Count ?? 0)
        sum &+= (invitation.inviterName?.utf8Count ?? 0) &+ (invitation.fromURI?.utf8Count ?? 0)
    }
    return sum
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

/// The tokenizer alone, with a handler that does nothing: the floor under the full model.
struct NoOpHandler: JSONTokenHandler {
    var tokens = 0
    mutating func objectStart() { tokens &+= 1 }
    mutating func objectEnd() { tokens &+= 1 }
    mutating func arrayStart() { tokens &+= 1 }
    mutating func arrayEnd() { tokens &+= 1 }
    mutating func key(_ bytes: UnsafeRawBufferPointer) { tokens &+= 1 }
    mutating func string(_ bytes: UnsafeRawBufferPointer) { tokens &+= 1 }
    mutating func number(_ bytes: UnsafeRawBufferPointer) { tokens &+= 1 }
    mutating func bool(_ value: Bool) { tokens &+= 1 }
    mutating func null() { tokens &+= 1 }
}

@inline(never)
func tokenizeAll() -> Int {
    var tokenizer = JSONTokenizer(handler: NoOpHandler(), limits: .eventChannel)
    for batch in corpus {
        tokenizer.reset()
        batch.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + chunk, raw.count)
                try! tokenizer.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        try! tokenizer.finish()
    }
    return tokenizer.handler.tokens
}

if arguments.count > 3 {
    for _ in 0..<rounds {
        let clock = ContinuousClock()
        var tokens = 0
        let elapsed = clock.measure { tokens = tokenizeAll() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("tokenizer only: \(bytes) bytes, \(tokens) tokens, \(Int(Double(bytes) / 1e6 / seconds)) MB/s")
    }
}
