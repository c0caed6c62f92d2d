import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor and the name its errors carry (the path it was opened at, or
/// `stdout`): every failure is a `SystemCallError` naming the call and that name.
package struct SystemFile: Sendable {
    let descriptor: FileDescriptor
    let name: String

    package init(_ descriptor: FileDescriptor, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    package static let standardInput = SystemFile(.standardInput, name: "stdin")
    package static let standardOutput = SystemFile(.standardOutput, name: "stdout")
    package static let standardError = SystemFile(.standardError, name: "stderr")

    /// Opens `path`, always close-on-exec (no child inherits it).
    package static func open(
        _ path: String,
        _ mode: FileDescriptor.AccessMode,
        options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions? = nil
    ) throws(SystemCallError) -> SystemFile {
        let descriptor = try SystemCall.system("open", path) {
            try FileDescriptor.open(
                FilePath(path),
                mode,
                options: options.union(.closeOnExec),
                permissions: permissions
            )
        }
        return SystemFile(descriptor, name: path)
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file. A non-blocking descriptor
    /// with nothing to read throws `Errno.wouldBlock`.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try SystemCall.system("read", name) { try descriptor.read(into: buffer) }
    }

    /// The whole file from where the descriptor stands; more than `limit` bytes throw
    /// `Errno.fileTooLarge`.
    package func readToEnd(limit: Int = .max) throws(SystemCallError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) in try read(into: raw) }
            }.get()
            if count == 0 { return bytes }
            bytes += buffer[..<count]
            if bytes.count > limit { throw SystemCallError(call: "read", subject: name, errno: .fileTooLarge) }
        }
    }

    /// Truncates (or extends) the file to `size` bytes (ftruncate(2)).
    package func resize(to size: Int) throws(SystemCallError) {
        try SystemCall.system("ftruncate", name) { try descriptor.resize(to: Int64(size)) }
    }

    /// Waits until the file's data and metadata are on the device (fsync(2)); on a directory,
    /// until its entries are.
    package func synchronize() throws(SystemCallError) {
        _ = try SystemCall.run("fsync", name) { fsync(descriptor.rawValue) }
    }

    /// Whether the descriptor refers to a directory (fstat(2)).
    package func isDirectory() throws(SystemCallError) -> Bool {
        try SystemCall.system("fstat", name) { try descriptor.stat().type == .directory }
    }

    /// The device and inode of the open file (fstat(2)).
    package func identity() throws(SystemCallError) -> (device: UInt64, inode: UInt64) {
        let status = try SystemCall.system("fstat", name) { try descriptor.stat() }
        return (UInt64(status.deviceID.rawValue), UInt64(status.inode.rawValue))
    }

    /// Releases the descriptor. Linux releases it whatever close(2) answers, so it is never
    /// retried, and its error (after a successful fsync where durability matters) leaves the
    /// caller nothing to do: it is not reported.
    package func close() {
        try? descriptor.close()
    }

    /// Runs `body`, then closes the file, whether `body` threw or not.
    package func closeAfter<Result, Failure: Error>(
        _ body: (SystemFile) throws(Failure) -> Result
    ) throws(Failure)
        -> Result
    {
        defer { close() }
        return try body(self)
    }
}
