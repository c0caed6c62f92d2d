import SystemCalls
import SystemPackage

extension SystemCallError {
    /// The error for a terminal: the path sanitised, so that a file name cannot move the cursor.
    var forTerminal: String {
        "\(call) \(Sanitize.forTerminal(subject)): \(self.errno)"
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
        try? SystemFile.standardError.writeAll(line)
    }
}

/// Makes user-controlled text safe for a terminal: control characters, DEL and bidi controls
/// become visible `\u{…}` escapes, so that a file name or href cannot move the cursor, recolour
/// the screen or reorder the line.
enum Sanitize {
    static func forTerminal(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0..<0x20, 0x7F...0x9F, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
