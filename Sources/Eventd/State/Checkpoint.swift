import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// What survives a restart (DESIGN.md §3 Files): the application, the events URL to request
/// next, the sequence counter, the endpoint id, and the open invitations. Nothing secret. A
/// snapshot, as `checkpoint.json` holds it: `PersistedState`, the state's one owner, makes the
/// ones the daemon saves.
package struct Checkpoint: Sendable, Equatable {
    package let endpointID: String
    package let applicationURL: String?
    package let applicationsURL: String?
    /// The URL to request next; requesting it acknowledges everything before.
    package let eventsURL: String?
    /// The last sequence number of the records of acknowledged batches.
    package let sequence: Int64
    /// Sequence numbers up to here may have been given to records (the batch in flight); the
    /// next run starts above them (`firstFreeSequence`), so a record delivered again after a
    /// crash gets a number never used before. A clean stop saves the last number used.
    package let sequenceReserved: Int64
    /// Invitation href → first sighting (µs since 1970).
    package let openInvitations: [String: Int64]

    package init(
        endpointID: String,
        applicationURL: String? = nil,
        applicationsURL: String? = nil,
        eventsURL: String? = nil,
        sequence: Int64 = 0,
        sequenceReserved: Int64? = nil,
        openInvitations: [String: Int64] = [:]
    ) {
        self.endpointID = endpointID
        self.applicationURL = applicationURL
        self.applicationsURL = applicationsURL
        self.eventsURL = eventsURL
        self.sequence = sequence
        self.sequenceReserved = sequenceReserved ?? sequence
        self.openInvitations = openInvitations
    }

    /// The counter a run starts from: above every number that may have been used.
    package var firstFreeSequence: Int64 { max(sequence, sequenceReserved) }

    package func encoded() -> [UInt8] {
        var members: [JSONValue.Member] = [
            .init("version", .number("1")),
            .init("endpoint_id", .string(endpointID)),
        ]
        if let applicationURL { members.append(.init("application", .string(applicationURL))) }
        if let applicationsURL { members.append(.init("applications", .string(applicationsURL))) }
        if let eventsURL { members.append(.init("events_url", .string(eventsURL))) }
        members.append(.init("sequence", .number(String(sequence))))
        members.append(.init("sequence_reserved", .number(String(sequenceReserved))))
        members.append(
            .init(
                "open_invitations",
                .object(
                    openInvitations.sorted { $0.key < $1.key }.map {
                        .init($0.key, .number(String($0.value)))
                    }
                )
            )
        )
        var writer = JSONWriter()
        writer.value(.object(members))
        writer.raw("\n")
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8], file: String) throws(CheckpointError) -> Checkpoint {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw CheckpointError(file: file, message: "not valid JSON: \(error)")
        }
        guard document["version"]?.intValue == 1 else {
            throw CheckpointError(file: file, message: "unknown version (expected 1)")
        }
        guard let endpointID = document["endpoint_id"]?.stringValue, let sequence = document["sequence"]?.intValue
        else {
            throw CheckpointError(file: file, message: "endpoint_id or sequence missing")
        }
        var open: [String: Int64] = [:]
        for member in document["open_invitations"]?.objectValue ?? [] {
            if let value = member.value.intValue { open[member.key] = Int64(value) }
        }
        return Checkpoint(
            endpointID: endpointID,
            applicationURL: document["application"]?.stringValue,
            applicationsURL: document["applications"]?.stringValue,
            eventsURL: document["events_url"]?.stringValue,
            sequence: Int64(sequence),
            sequenceReserved: document["sequence_reserved"]?.intValue.map(Int64.init),
            openInvitations: open
        )
    }

    /// A new endpoint id: a random UUID (version 4), kept for the life of the state directory
    /// so that a restart finds the same application.
    package static func newEndpointID() -> String {
        // SystemRandomNumberGenerator reads getrandom(2) on Linux.
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}

package struct CheckpointError: Error, Sendable, CustomStringConvertible {
    package var file: String
    package var message: String
    package var description: String { "\(file): \(message)" }
}

/// `checkpoint.json` in the state directory, written atomically: a temporary file, fsync,
/// rename over the old one, fsync of the directory. A crash leaves either the old or the new
/// checkpoint, never a torn one. Beside it: `checkpoint.json.spare`, the checkpoint before,
/// whose file the next save overwrites (see `save`), and after a crash a temporary file; both
/// are never read.
package struct CheckpointStore: Sendable {
    package let directory: String
    package var path: String { directory + "/checkpoint.json" }
    var temporaryPath: String { directory + "/checkpoint.json.tmp" }
    /// The checkpoint that `checkpoint.json` replaced last, kept as the next temporary file.
    var sparePath: String { directory + "/checkpoint.json.spare" }

    package init(directory: String) {
        self.directory = directory
    }

    /// nil when there is none yet (a leftover temporary file from a crash is ignored).
    package func load() throws(CheckpointError) -> Checkpoint? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw CheckpointError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count < 0 {
                throw CheckpointError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return try Checkpoint.decode(bytes, file: path)
    }

    /// Writes `checkpoint` atomically. The temporary file is the inode of the checkpoint before
    /// the current one (`checkpoint.json.spare`), overwritten in place: creating a file and
    /// freeing the replaced one on every save made the file system allocate and free an inode
    /// and its block and write their bitmaps synchronously at fsync, on the path of every
    /// acknowledgement (Benchmarks/README.md has the figures). The file `checkpoint.json` names
    /// is never written to; a crash at any point leaves it whole.
    package func save(_ checkpoint: Checkpoint) throws(CheckpointError) {
        let bytes = checkpoint.encoded()
        // Missing on the first save and after a crash: the temporary file is then created.
        _ = rename(sparePath, temporaryPath)
        let openTemporary = { open(temporaryPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600) }
        var descriptor = openTemporary()
        if descriptor < 0 && errno == ENOENT {
            // The first save, or the directory was removed while running: create it (checked
            // here rather than before every save, which cost a stat per batch).
            try ensureDirectory()
            descriptor = openTemporary()
        }
        guard descriptor >= 0 else { throw failure("cannot create \(temporaryPath)") }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes {
                pwrite(descriptor, $0.baseAddress! + written, bytes.count - written, off_t(written))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                close(descriptor)
                throw failure("cannot write \(temporaryPath)")
            }
            written += count
        }
        // The old contents may be longer.
        guard ftruncate(descriptor, off_t(bytes.count)) == 0 else {
            close(descriptor)
            throw failure("cannot truncate \(temporaryPath)")
        }
        guard fsync(descriptor) == 0 else {
            close(descriptor)
            throw failure("cannot fsync \(temporaryPath)")
        }
        close(descriptor)
        try afterTemporaryWrite()
        // The checkpoint about to be replaced becomes the spare (fails harmlessly when there is
        // none yet); the rename then drops only its other name.
        _ = link(path, sparePath)
        guard rename(temporaryPath, path) == 0 else { throw failure("cannot rename \(temporaryPath) to \(path)") }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw failure("cannot open \(directory)") }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw failure("cannot fsync \(directory)") }
    }

    /// A hook for the crash test: `UCWA_EVENTD_TEST_CRASH_BEFORE_RENAME=1` kills the process
    /// between writing the temporary file and renaming it. Never set in production.
    func afterTemporaryWrite() throws(CheckpointError) {
        if Self.crashBeforeRename { kill(getpid(), SIGKILL) }
    }

    /// Read once: `getenv` walked the environment on every save.
    private static let crashBeforeRename: Bool =
        getenv("UCWA_EVENTD_TEST_CRASH_BEFORE_RENAME").map { String(cString: $0) == "1" } ?? false

    func ensureDirectory() throws(CheckpointError) {
        var status = stat()
        if stat(directory, &status) == 0 { return }
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw failure("cannot create the state directory")
        }
    }

    private func failure(_ what: String) -> CheckpointError {
        CheckpointError(file: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
