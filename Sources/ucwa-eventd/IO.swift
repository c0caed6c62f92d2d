import SystemCalls
import SystemPackage
import UCWA

extension SystemCallError {
    /// The error for a terminal: the path sanitised, so that a file name cannot move the cursor.
    var forTerminal: String {
        "\(call) \(UserText.sanitize(subject, limit: .max)): \(self.errno)"
    }
}

/// A file read in chunks, so that no file is ever held whole in memory.
struct InputFile {
    let file: SystemFile

    init(path: String) throws(SystemCallError) {
        file = try SystemFile.open(path, .readOnly)
        if (try? file.isDirectory()) == true {
            file.close()
            throw SystemCallError(call: "read", subject: path, errno: .isDirectory)
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try file.read(into: buffer)
    }

    func close() {
        file.close()
    }
}

/// Buffered output written in large blocks by the system-call layer's write-all. A reference
/// type: the command and the event printer write to the same buffer. The first failed write
/// is kept (`failure`) and ends the output; the command decides what it means.
final class OutputStream {
    let output: SystemFile
    var buffer: [UInt8] = []
    /// The write that failed, if one did; nothing is written after it.
    private(set) var failure: SystemCallError?
    static let blockSize = 64 * 1024

    init(output: SystemFile) {
        self.output = output
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
        if failure == nil {
            do {
                try output.writeAll(buffer)
            } catch {
                failure = error
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
        // A message that cannot be written to stderr has nowhere else to go.
        _ = try? SystemFile.standardError.writeAll(line)
    }
}
