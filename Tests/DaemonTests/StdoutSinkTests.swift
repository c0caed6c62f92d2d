import Testing
import UCWATestSupport

@testable import Eventd
@testable import Locking
@testable import SystemCalls
@testable import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// The stdout sink over the system-call layer's write-all, on real pipes.
@Suite struct StdoutSinkTests {
    init() {
        // As the daemon does at start (`Signals`).
        ProcessCalls.ignoreBrokenPipe()
    }

    private static func record() -> Record {
        let builder = RecordBuilder(account: "alice", filter: .all)
        var ledger = RecordCounters()
        return builder.channelOpened(
            application: "https://pool.contoso.com/ucwa/v1/applications/1",
            now: 0,
            ledger: &ledger
        )
    }

    /// A reader gone away is the orderly `.brokenPipe`, not a crash and not a silent drop.
    @Test func aClosedReaderIsABrokenPipe() throws {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "stdout")
        defer { writeEnd.close() }
        readEnd.close()
        var sink = StdoutSink(output: writeEnd)
        try sink.append(Self.record())
        #expect(throws: SinkError.brokenPipe) { try sink.flush() }
    }

    /// A non-blocking stdout that is full is waited for: every record arrives.
    @Test func aFullNonBlockingStdoutIsWaitedFor() throws {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "stdout")
        defer { readEnd.close() }
        try writeEnd.setNonBlocking()
        let line = Self.record()
        var sink = StdoutSink(output: writeEnd)
        let lines = Locked(0)
        let reader = TestThread {
            var pause = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            nanosleep(&pause, nil)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while let count = try? buffer.withUnsafeMutableBytes({ try readEnd.read(into: $0) }), count > 0 {
                lines.withLock { $0 += buffer[..<count].filter { $0 == UInt8(ascii: "\n") }.count }
            }
        }
        for _ in 0..<2000 { try sink.append(line) }
        try sink.flush()
        writeEnd.close()
        reader.join()
        #expect(lines.withLock { $0 } == 2000)
    }
}
