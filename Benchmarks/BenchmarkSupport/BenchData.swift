// The benchmark inputs on disk, shared by every driver `make bench` runs (ours in Swift, yajl,
// simdjson) so that all of them read exactly the same bytes.
import UCWACorpus

#if canImport(Glibc)
import Glibc
#endif

package enum BenchData {
    /// Writes the deterministic corpus (`CorpusGenerator.corpus(bytes:seed: 42)`) to `path` as
    /// length-prefixed batches — a little-endian UInt32 length, then the batch — followed by 64
    /// zero bytes: a zero length ends the file and the zeros are the padding simdjson needs to
    /// parse the last batch in place.
    package static func writeCorpus(to path: String, bytes: Int) throws(BenchDataError) {
        let file = try BenchFile(creating: path)
        for batch in CorpusGenerator.corpus(bytes: bytes, seed: 42) {
            let length = UInt32(batch.count)
            try file.write((0..<4).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) })
            try file.write(batch)
        }
        try file.write([UInt8](repeating: 0, count: 64))
        try file.close()
    }

    /// Reads a corpus file written by `writeCorpus` back into its batches.
    package static func readCorpus(_ path: String) throws(BenchDataError) -> [[UInt8]] {
        let (bytes, batches) = try readCorpusInPlace(path)
        return batches.map { Array(bytes[$0]) }
    }

    /// The corpus file as it is on disk, in one buffer, with where each batch lies in it: what
    /// the C drivers decode from, so that no driver's batches are scattered over the heap.
    package static func readCorpusInPlace(
        _ path: String
    ) throws(BenchDataError) -> (bytes: [UInt8], batches: [Range<Int>]) {
        let bytes = try BenchFile.read(path)
        var batches: [Range<Int>] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << ($1 * 8) }
            if length == 0 { break }
            offset += 4
            batches.append(offset..<offset + length)
            offset += length
        }
        return (bytes, batches)
    }

    /// Writes one generated batch of at least `bytes` bytes (one sender block) to `path`,
    /// streamed, for the 1 GiB benchmark.
    package static func writeLargeBatch(to path: String, bytes: Int) throws(BenchDataError) {
        let file = try BenchFile(creating: path)
        var generator = CorpusGenerator(seed: 1)
        var pending: [UInt8] = []
        var failure: BenchDataError?
        generator.streamBatch(bytes: bytes) { piece in
            pending.append(contentsOf: piece)
            if pending.count >= 1 << 20, failure == nil {
                do throws(BenchDataError) { try file.write(pending) } catch { failure = error }
                pending.removeAll(keepingCapacity: true)
            }
        }
        if let failure { throw failure }
        try file.write(pending)
        try file.close()
    }
}

/// A bench input could not be written or read: the path and the errno.
package struct BenchDataError: Error, CustomStringConvertible {
    package var path: String
    package var operation: String
    package var code: Int32
    package var description: String { "\(path): \(operation) failed: \(String(cString: strerror(code)))" }

    package init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }
}

/// A file written through a temporary name and renamed into place when complete.
struct BenchFile {
    let path: String
    let fd: Int32

    init(creating path: String) throws(BenchDataError) {
        self.path = path
        fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchDataError(path: path + ".tmp", operation: "open", code: errno) }
    }

    func write(_ bytes: [UInt8]) throws(BenchDataError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else { throw BenchDataError(path: path + ".tmp", operation: "write", code: errno) }
            done += n
        }
    }

    func close() throws(BenchDataError) {
        guard Glibc.close(fd) == 0 else { throw BenchDataError(path: path + ".tmp", operation: "close", code: errno) }
        guard rename(path + ".tmp", path) == 0 else {
            throw BenchDataError(path: path, operation: "rename", code: errno)
        }
    }

    static func read(_ path: String) throws(BenchDataError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchDataError(path: path, operation: "open", code: errno) }
        defer { Glibc.close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw BenchDataError(path: path, operation: "read", code: errno) }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<n])
        }
    }
}
