import StreamingJSON
import SystemCalls
import SystemPackage
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// What survives a restart (DESIGN.md §3 Files): the application, the events URL to request
/// next, the sequence counter, the endpoint id, and the open invitations. Nothing secret. A
/// snapshot, as `checkpoint.json` holds it: `PersistedState`, the state's one owner, makes the
/// ones the daemon saves.
struct Checkpoint: Sendable, Equatable {
    let endpointID: String
    let applicationURL: String?
    let applicationsURL: String?
    /// The URL to request next; requesting it acknowledges everything before.
    let eventsURL: String?
    /// The last sequence number of the records of acknowledged batches.
    let sequence: Int64
    /// Sequence numbers up to here may have been given to records (the batch in flight); the
    /// next run starts above them (`firstFreeSequence`), so a record delivered again after a
    /// crash gets a number never used before. A clean stop saves the last number used.
    let sequenceReserved: Int64
    /// Invitation href → first sighting (µs since 1970).
    let openInvitations: [String: Int64]

    init(
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
    var firstFreeSequence: Int64 { max(sequence, sequenceReserved) }

    func encoded() -> [UInt8] {
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

    static func decode(_ bytes: [UInt8], file: String) throws(CheckpointError) -> Checkpoint {
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
    static func newEndpointID() -> String {
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

struct CheckpointError: Error, Sendable, CustomStringConvertible {
    var file: String
    var message: String
    var description: String { "\(file): \(message)" }
}

/// `checkpoint.json` in the state directory, written atomically: a temporary file, fsync,
/// rename over the old one, fsync of the directory. A crash leaves either the old or the new
/// checkpoint, never a torn one. Beside it: `checkpoint.json.spare`, the checkpoint before,
/// whose file the next save overwrites (see `save`), and after a crash a temporary file; both
/// are never read.
struct CheckpointStore: Sendable {
    let directory: String
    var path: String { directory + "/checkpoint.json" }
    var temporaryPath: String { directory + "/checkpoint.json.tmp" }
    /// The checkpoint that `checkpoint.json` replaced last, kept as the next temporary file.
    var sparePath: String { directory + "/checkpoint.json.spare" }

    init(directory: String) {
        self.directory = directory
    }

    /// nil when there is none yet (a leftover temporary file from a crash is ignored).
    func load() throws(CheckpointError) -> Checkpoint? {
        let bytes: [UInt8]
        do {
            bytes = try SystemFile.open(path, .readOnly).closeAfter { file throws(SystemCallError) in
                try file.readToEnd()
            }
        } catch  where error.errno == .noSuchFileOrDirectory && error.call == "open" {
            return nil
        } catch {
            throw CheckpointError(file: path, message: "cannot read: \(error.errno)")
        }
        return try Checkpoint.decode(bytes, file: path)
    }

    /// Writes `checkpoint` atomically. The temporary file is the inode of the checkpoint before
    /// the current one (`checkpoint.json.spare`), overwritten in place: creating a file and
    /// freeing the replaced one on every save made the file system allocate and free an inode
    /// and its block and write their bitmaps synchronously at fsync, on the path of every
    /// acknowledgement (Benchmarks/README.md has the figures). The file `checkpoint.json` names
    /// is never written to; a crash at any point leaves it whole.
    func save(_ checkpoint: Checkpoint) throws(CheckpointError) {
        let bytes = checkpoint.encoded()
        // Missing on the first save and after a crash: the temporary file is then created.
        try? PathCalls.rename(sparePath, to: temporaryPath)
        let temporary = try openTemporary()
        try temporary.closeAfter { file throws(CheckpointError) in
            try attempt("cannot write \(temporaryPath)") {
                try bytes.withUnsafeBytes { try file.writeAll($0, atOffset: 0) }
            }
            // The old contents may be longer.
            try attempt("cannot truncate \(temporaryPath)") { try file.resize(to: bytes.count) }
            try attempt("cannot fsync \(temporaryPath)") { try file.synchronize() }
        }
        try afterTemporaryWrite()
        // The checkpoint about to be replaced becomes the spare (fails harmlessly when there is
        // none yet); the rename then drops only its other name.
        try? PathCalls.link(path, as: sparePath)
        try attempt("cannot rename \(temporaryPath) to \(path)") { try PathCalls.rename(temporaryPath, to: path) }
        let directoryFile = try attempt("cannot open \(directory)") {
            try SystemFile.open(directory, .readOnly, options: .directory)
        }
        try directoryFile.closeAfter { file throws(CheckpointError) in
            try attempt("cannot fsync \(directory)") { try file.synchronize() }
        }
    }

    /// The temporary file, opened for writing; created, with the state directory, when missing.
    private func openTemporary() throws(CheckpointError) -> SystemFile {
        let openFile = { () throws(SystemCallError) -> SystemFile in
            try SystemFile.open(temporaryPath, .writeOnly, options: .create, permissions: [.ownerReadWrite])
        }
        do {
            return try openFile()
        } catch  where error.errno == .noSuchFileOrDirectory {
            // The first save, or the directory was removed while running: create it (checked
            // here rather than before every save, which cost a stat per batch).
            try ensureDirectory()
            return try attempt("cannot create \(temporaryPath)", openFile)
        } catch {
            throw failure("cannot create \(temporaryPath)", error)
        }
    }

    /// A hook for the crash test: `UCWA_EVENTD_TEST_CRASH_BEFORE_RENAME=1` kills the process
    /// between writing the temporary file and renaming it. Never set in production.
    func afterTemporaryWrite() throws(CheckpointError) {
        if Self.crashBeforeRename { ProcessCalls.killSelf() }
    }

    /// Read once: `getenv` walked the environment on every save.
    private static let crashBeforeRename: Bool =
        getenv("UCWA_EVENTD_TEST_CRASH_BEFORE_RENAME").map { String(cString: $0) == "1" } ?? false

    func ensureDirectory() throws(CheckpointError) {
        try attempt("cannot create the state directory") {
            try PathCalls.ensureDirectory(directory, permissions: [.ownerReadWriteExecute])
        }
    }

    /// Runs a step of the checkpoint's I/O; its failure says `what` failed and errno's text.
    @discardableResult
    private func attempt<Result>(
        _ what: @autoclosure () -> String,
        _ body: () throws -> Result
    ) throws(CheckpointError) -> Result {
        do {
            return try body()
        } catch let error as SystemCallError {
            throw failure(what(), error)
        } catch {
            // The steps are calls of the system-call layer, which throws nothing else.
            throw CheckpointError(file: path, message: "\(what()): \(error)")
        }
    }

    private func failure(_ what: String, _ error: SystemCallError) -> CheckpointError {
        CheckpointError(file: path, message: "\(what): \(error.errno)")
    }
}
