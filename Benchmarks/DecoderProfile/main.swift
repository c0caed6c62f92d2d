// A plain driver for profiling the decoder (perf, valgrind --tool=callgrind) without the
// benchmark harness around it: builds the corpus, decodes it `rounds` times at the given chunk
// size and prints MB/s per round. Built only with BENCHMARKS=1.
//
//   .build-bench/release/DecoderProfile [corpus MB] [chunk bytes] [rounds] [tokens]
//
// With a fourth argument it also runs the tokenizer alone with a no-op handler: the floor under
// the full model.
import BenchmarkSupport
import StreamingJSON
import UCWA
import UCWACorpus

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let megabytes = arguments.count > 0 ? arguments[0] : 30
let chunk = arguments.count > 1 ? arguments[1] : 65536
let rounds = arguments.count > 2 ? arguments[2] : 5
let corpus = CorpusGenerator.corpus(bytes: megabytes << 20, seed: 42)
let bytes = corpus.reduce(0) { $0 + $1.count }

for _ in 0..<rounds {
    var events = 0
    let rate = megabytesPerSecond(bytes) { events = decodeAll(corpus, chunk: chunk).events }
    print("\(bytes) bytes, \(events) events, \(rate) MB/s")
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
        feedInChunks(batch, chunk: chunk) { try! tokenizer.feed($0) }
        try! tokenizer.finish()
    }
    return tokenizer.handler.tokens
}

if arguments.count > 3 {
    for _ in 0..<rounds {
        var tokens = 0
        let rate = megabytesPerSecond(bytes) { tokens = tokenizeAll() }
        print("tokenizer only: \(bytes) bytes, \(tokens) tokens, \(rate) MB/s")
    }
}
