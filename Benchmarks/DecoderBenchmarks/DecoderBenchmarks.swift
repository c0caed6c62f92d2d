import Benchmark
import BenchmarkSupport
import Foundation
import FoundationBaseline
import StreamingJSON
import UCWA
import UCWACorpus

// Decoder speed and memory, side by side with Foundation's JSONSerialization on the same bytes
// in the same process, so that the ratio holds on a noisy shared machine.
//
// Every iteration decodes the whole deterministic corpus (~100 MB of realistic batches) and
// records MB/s as a custom metric; the side-by-side benchmark runs ours and JSONSerialization
// back to back within each iteration and records the ratio (×100). The 1 GiB benchmark streams
// one generated batch from disk in 64 KiB reads and records the process's peak RSS (which
// includes Foundation and the harness) and how much the resident set grew while decoding
// (sampled every 64 MiB). `Benchmarks/peak-rss.sh` measures `ucwa-eventd replay` on the same
// file with the kernel's own peak-RSS figure: that is the number the target applies to.

/// Target corpus size in bytes (BENCH_CORPUS_MB overrides the 100 MB default).
let corpusBytes = (ProcessInfo.processInfo.environment["BENCH_CORPUS_MB"].flatMap(Int.init) ?? 100) << 20

/// The corpus, built on first use: each benchmark runs in its own process, so benchmarks that do
/// not touch it (the 1 GiB one) do not carry it in their RSS.
nonisolated(unsafe) var corpusStorage: [[UInt8]]?
func corpus() -> [[UInt8]] {
    if let corpusStorage { return corpusStorage }
    let built = CorpusGenerator.corpus(bytes: corpusBytes, seed: 42)
    corpusStorage = built
    return built
}

func totalBytes(_ batches: [[UInt8]]) -> Int { batches.reduce(0) { $0 + $1.count } }

/// Decodes every batch with our decoder; returns the event count.
@inline(never)
func decodeOurs(_ batches: [[UInt8]], chunk: Int) -> Int {
    let consumer = decodeAll(batches, chunk: chunk)
    blackHole(consumer.checksum)
    return consumer.events
}

/// The same work with JSONSerialization (BenchmarkSupport's `decodeFoundation`); returns the
/// event count.
@inline(never)
func decodeWithFoundation(_ batches: [[UInt8]]) -> Int {
    let totals = decodeFoundation(batches)
    blackHole(totals.touched)
    return totals.events
}

func megabytesPerSecond(_ bytes: Int, _ seconds: Double) -> Int {
    Int((Double(bytes) / 1_000_000) / seconds)
}

func seconds(_ work: () -> Void) -> Double {
    let clock = ContinuousClock()
    let elapsed = clock.measure(work)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let mbps = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

/// Times `decode` over the whole corpus and records MB/s.
func measureThroughput(_ benchmark: Benchmark, _ decode: ([[UInt8]]) -> Int) {
    let batches = corpus()
    let bytes = totalBytes(batches)
    benchmark.startMeasurement()
    var events = 0
    let elapsed = seconds { events = decode(batches) }
    benchmark.stopMeasurement()
    blackHole(events)
    benchmark.measurement(mbps, megabytesPerSecond(bytes, elapsed))
}
let oursMBps = BenchmarkMetric.custom("ours MB/s", polarity: .prefersLarger, useScalingFactor: false)
let foundationMBps = BenchmarkMetric.custom("JSONSerialization MB/s", polarity: .prefersLarger, useScalingFactor: false)
let ratioMetric = BenchmarkMetric.custom("ratio x100", polarity: .prefersLarger, useScalingFactor: false)
let peakRSSMiB = BenchmarkMetric.custom("peak RSS MiB (getrusage)", polarity: .prefersSmaller, useScalingFactor: false)
let rssGrowthKiB = BenchmarkMetric.custom(
    "RSS growth while decoding KiB",
    polarity: .prefersSmaller,
    useScalingFactor: false
)

/// Current resident set size in KiB (from /proc/self/statm).
func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024 : 0
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(20),
        maxIterations: 5
    )

    Benchmark("Decoder full model, 64 KiB chunks", configuration: .init(metrics: [.wallClock, mbps])) { benchmark in
        measureThroughput(benchmark) { decodeOurs($0, chunk: 64 << 10) }
    }

    Benchmark("Decoder full model, 1-byte chunks", configuration: .init(metrics: [.wallClock, mbps], maxIterations: 3))
    { benchmark in
        measureThroughput(benchmark) { decodeOurs($0, chunk: 1) }
    }

    Benchmark("JSONSerialization, whole batches", configuration: .init(metrics: [.wallClock, mbps], maxIterations: 3)) {
        benchmark in
        measureThroughput(benchmark) { decodeWithFoundation($0) }
    }

    Benchmark(
        "Side by side: ours (64 KiB) vs JSONSerialization",
        configuration: .init(metrics: [oursMBps, foundationMBps, ratioMetric], maxIterations: 3)
    ) { benchmark in
        let batches = corpus()
        let bytes = totalBytes(batches)
        var ours = 0
        var theirs = 0
        let oursSeconds = seconds { ours = decodeOurs(batches, chunk: 64 << 10) }
        let theirSeconds = seconds { theirs = decodeWithFoundation(batches) }
        precondition(ours == theirs, "decoders disagree: \(ours) vs \(theirs) events")
        benchmark.measurement(oursMBps, megabytesPerSecond(bytes, oursSeconds))
        benchmark.measurement(foundationMBps, megabytesPerSecond(bytes, theirSeconds))
        benchmark.measurement(ratioMetric, Int(theirSeconds / oursSeconds * 100))
    }

    Benchmark(
        "1 GiB batch streamed from disk, 64 KiB reads",
        configuration: .init(
            metrics: [.wallClock, mbps, peakRSSMiB, rssGrowthKiB],
            warmupIterations: 0,
            maxIterations: 1
        )
    ) { benchmark in
        let path = try! LargeBatch.ensure()
        let handle = FileHandle(forReadingAtPath: path)!
        defer { try? handle.close() }
        var decoder = EventBatchDecoder(consumer: CountingConsumer(), limits: JSONLimits(maxDocumentBytes: nil))
        var bytes = 0
        let residentBefore = residentKiB()
        var peakDuring = residentBefore
        benchmark.startMeasurement()
        let elapsed = seconds {
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            let fd = handle.fileDescriptor
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                bytes += count
                buffer.withUnsafeBytes { try! decoder.feed(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if bytes & (64 << 20 - 1) < count { peakDuring = max(peakDuring, residentKiB()) }
            }
            try! decoder.finish()
        }
        benchmark.stopMeasurement()
        blackHole(decoder.consumer.checksum)
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        benchmark.measurement(peakRSSMiB, usage.ru_maxrss / 1024)
        benchmark.measurement(rssGrowthKiB, max(0, peakDuring - residentBefore))
        benchmark.measurement(mbps, megabytesPerSecond(bytes, elapsed))
    }
}

/// The generated 1 GiB single batch under bench-data/, written once and reused.
enum LargeBatch {
    static let path = "bench-data/batch-1gib.json"

    static func ensure() throws -> String {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = attributes[.size] as? Int, size >= 1 << 30
        {
            return path
        }
        try FileManager.default.createDirectory(atPath: "bench-data", withIntermediateDirectories: true)
        try BenchData.writeLargeBatch(to: path, bytes: 1 << 30)
        return path
    }
}
