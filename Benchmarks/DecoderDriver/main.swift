// Our decoder as a process of its own for `make bench`, with the same command line and output
// as the other drivers (FoundationDriver, Benchmarks/baselines/), so that every decoder runs on
// the same bytes, one process each, side by side in one run. It also writes those bytes.
//
//   DecoderDriver write-corpus FILE MB      the deterministic corpus, length-prefixed batches
//   DecoderDriver write-batch FILE MB       one generated batch of at least MB MiB
//   DecoderDriver ours corpus FILE CHUNK PASSES
//   DecoderDriver ours stream FILE CHUNK    one batch streamed from disk, 64 KiB reads
//
// Prints one JSON object: seconds per pass, bytes, events, check (the cross-driver checksum,
// `crossCheck`), touched, peak RSS in KiB.
import BenchmarkSupport
import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

func usage() -> Never {
    complain(
        "usage: DecoderDriver write-corpus|write-batch FILE MB | ours corpus FILE CHUNK PASSES | ours stream FILE CHUNK"
    )
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3 else { usage() }

do {
    switch (arguments[0], arguments[1]) {
    case ("write-corpus", let path):
        try BenchData.writeCorpus(to: path, bytes: (Int(arguments[2]) ?? 100) << 20)
    case ("write-batch", let path):
        try BenchData.writeLargeBatch(to: path, bytes: (Int(arguments[2]) ?? 1024) << 20)
    case ("ours", "corpus"):
        guard arguments.count >= 5, let chunk = Int(arguments[3]), let passes = Int(arguments[4]) else { usage() }
        let (bytes, batches) = try BenchData.readCorpusInPlace(arguments[2])
        var seconds: [Double] = []
        var consumer = CountingConsumer()
        for _ in 0..<passes {
            let start = monotonicSeconds()
            consumer = decodeAll(bytes, batches: batches, chunk: chunk)
            seconds.append(monotonicSeconds() - start)
        }
        printDriverReport(
            seconds: seconds,
            bytes: batches.reduce(0) { $0 + $1.count },
            events: consumer.events,
            check: consumer.check,
            touched: consumer.checksum
        )
    case ("ours", "stream"):
        guard arguments.count >= 4, let chunk = Int(arguments[3]) else { usage() }
        let fd = open(arguments[2], O_RDONLY)
        guard fd >= 0 else { throw BenchDataError(path: arguments[2], operation: "open", code: errno) }
        let start = monotonicSeconds()
        let (bytes, consumer): (Int, CountingConsumer)
        do {
            (bytes, consumer) = try decodeStream(descriptor: fd, chunk: chunk)
        } catch {
            throw BenchDataError(path: arguments[2], operation: "read", code: error.code)
        }
        let elapsed = monotonicSeconds() - start
        close(fd)
        printDriverReport(
            seconds: [elapsed],
            bytes: bytes,
            events: consumer.events,
            check: consumer.check,
            touched: consumer.checksum
        )
    default:
        usage()
    }
} catch {
    complain("DecoderDriver: \(error)")
    exit(1)
}
