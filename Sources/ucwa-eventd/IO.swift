import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which one, on what, and errno's text.
struct SystemError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var code: Int32
    var description: String {
        "\(call) \(UserText.sanitize(path, limit: .max)): \(String(cString: strerror(code)))"
    }
}

/// A file read in chunks with read(2), so that no file is ever held whole in memory.
struct InputFile {
    let descriptor: Int32
    let path: String

    init(path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open", path: path, code: errno) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw SystemError(call: "read", path: path, code: EISDIR)
        }
        descriptor = fd
        self.path = path
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemError(call: "read", path: path, code: errno) }
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

/// Buffered output to a file descriptor, written with write(2) in large blocks. A reference
/// type: the command and the event printer write to the same buffer.
final class OutputStream {
    let fileDescriptor: Int32
    var buffer: [UInt8] = []
    static let blockSize = 64 * 1024

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        buffer.reserveCapacity(Self.blockSize * 2)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        flushIfFull()
    }

    func flushIfFull() {
        if buffer.count >= Self.blockSize { flush() }
    }

    func flush() {
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    // A closed pipe (`| head`) ends the output quietly.
                    if errno == EPIPE { exit(0) }
                    return
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The daemon's own messages on stderr.
enum Diagnostics {
    static func print(_ message: String) {
        var line = Array(message.utf8)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
