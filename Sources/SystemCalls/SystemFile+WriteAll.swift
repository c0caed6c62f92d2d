import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The one way this package writes a buffer out whole, with one set of rules:
/// - `EINTR` is retried;
/// - `EAGAIN` (a non-blocking descriptor that is full) waits in poll(2) until the descriptor
///   takes more, instead of trying again at once;
/// - anything else, `EPIPE` (the reader went away) included, throws a `SystemCallError` naming
///   the call and the file; the bytes written before stay written.
extension SystemFile {
    /// Writes all of `bytes` at the descriptor's position; how many times it waited in poll(2).
    @discardableResult
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) -> Int {
        try writeAll(bytes, call: "write") { chunk, _ in try descriptor.write(chunk, retryOnInterrupt: true) }
    }

    /// Writes all of `bytes` at `offset` in the file (pwrite(2)); the descriptor's position stays.
    @discardableResult
    package func writeAll(_ bytes: UnsafeRawBufferPointer, atOffset offset: Int) throws(SystemCallError) -> Int {
        try writeAll(bytes, call: "pwrite") { chunk, written in
            try descriptor.write(toAbsoluteOffset: Int64(offset + written), chunk, retryOnInterrupt: true)
        }
    }

    @discardableResult
    package func writeAll(_ bytes: [UInt8]) throws(SystemCallError) -> Int {
        try bytes.withUnsafeBytes { raw in Result { () throws(SystemCallError) in try writeAll(raw) } }.get()
    }

    /// The loop: `writeOnce(chunk, bytesWrittenSoFar)` is one write(2) or pwrite(2).
    private func writeAll(
        _ bytes: UnsafeRawBufferPointer,
        call: String,
        writeOnce: (UnsafeRawBufferPointer, Int) throws -> Int
    ) throws(SystemCallError) -> Int {
        var written = 0
        var waits = 0
        while written < bytes.count {
            do {
                let count = try writeOnce(UnsafeRawBufferPointer(rebasing: bytes[written...]), written)
                if count > 0 {
                    written += count
                    continue
                }
            } catch let code as Errno where code == .wouldBlock || code == .resourceTemporarilyUnavailable {
                // Waited for below.
            } catch let code as Errno {
                throw SystemCallError(call: call, subject: name, errno: code)
            } catch {
                throw SystemCallError(call: call, subject: name, errno: .ioError)
            }
            try waitUntilWritable()
            waits += 1
        }
        return waits
    }

    /// Blocks in poll(2) until the descriptor takes more bytes (or has an error, which the
    /// next write then reports).
    func waitUntilWritable() throws(SystemCallError) {
        var entry = pollfd(fd: descriptor.rawValue, events: Int16(POLLOUT), revents: 0)
        _ = try SystemCall.run("poll", name) { poll(&entry, 1, -1) }
    }
}
