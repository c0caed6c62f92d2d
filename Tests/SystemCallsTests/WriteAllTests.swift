import SystemPackage
import Testing
import UCWATestSupport

@testable import Locking
@testable import SystemCalls

#if canImport(Glibc)
import Glibc
#endif

/// The write-all's rules on real pipes: EAGAIN waits in poll(2), EPIPE is a named error.
@Suite struct WriteAllTests {
    init() {
        // As the daemon does at start: a write to a pipe without a reader then fails with EPIPE.
        ProcessCalls.ignoreBrokenPipe()
    }

    /// A full non-blocking pipe whose reader starts late: every byte arrives, in order, and the
    /// writer waited in poll(2) meanwhile instead of spinning on EAGAIN (its CPU time over the
    /// wait stays a small part of the wait).
    @Test func fullNonBlockingPipeIsWrittenWholeWithoutSpinning() throws {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "test pipe")
        defer { readEnd.close() }
        try writeEnd.setNonBlocking()
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let received = Locked<[UInt8]>([])
        let delay = Duration.milliseconds(600)
        let reader = TestThread {
            var pause = timespec(tv_sec: 0, tv_nsec: 600_000_000)
            nanosleep(&pause, nil)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = (try? buffer.withUnsafeMutableBytes { try readEnd.read(into: $0) }) ?? 0
                if count == 0 { return }
                received.withLock { $0 += buffer[..<count] }
            }
        }
        let cpuBefore = threadCPUTime()
        let clock = ContinuousClock()
        let started = clock.now
        let waits = try writeEnd.writeAll(payload)
        let elapsed = clock.now - started
        let cpu = threadCPUTime() - cpuBefore
        writeEnd.close()
        reader.join()
        #expect(received.withLock { $0 } == payload)
        #expect(elapsed >= delay - .milliseconds(100), "the writer waited for the reader")
        #expect(waits >= 1, "EAGAIN was waited for in poll(2)")
        #expect(cpu < delay / 4, "the writer used \(cpu) of CPU over a \(elapsed) wait: it spun on EAGAIN")
    }

    /// A reader that closes while the writer waits on a full pipe: the waiting write ends with
    /// the named EPIPE error, neither a crash (SIGPIPE) nor a hang nor a silent drop.
    @Test func readerClosingDuringTheWaitIsANamedBrokenPipe() throws {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "test pipe")
        defer { writeEnd.close() }
        try writeEnd.setNonBlocking()
        let closer = TestThread {
            var pause = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            nanosleep(&pause, nil)
            readEnd.close()
        }
        defer { closer.join() }
        let payload = [UInt8](repeating: 0x41, count: 1 << 20)
        let error = #expect(throws: SystemCallError.self) { try writeEnd.writeAll(payload) }
        #expect(error?.errno == .brokenPipe)
        #expect(error?.call == "write")
        #expect(error?.description == "write test pipe: Broken pipe")
    }

    /// A reader gone before the first write: the first write fails, named.
    @Test func closedReaderIsANamedBrokenPipe() throws {
        let (readEnd, writeEnd) = try SystemFile.pipe(name: "stdout")
        defer { writeEnd.close() }
        readEnd.close()
        let error = #expect(throws: SystemCallError.self) { try writeEnd.writeAll(Array("line\n".utf8)) }
        #expect(error == SystemCallError(call: "write", subject: "stdout", errno: .brokenPipe))
    }
}
