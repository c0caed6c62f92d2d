import Locking
import SystemCalls
import SystemPackage
import UCWA

/// Where batches that keep failing to decode are saved before the channel skips them: the next
/// attempt at such a batch is captured as it arrives (`capture.tmp`), and the capture is moved
/// to `<seconds>-ack<ack>.json` when the channel gives up on the batch.
struct Quarantine: Sendable {
    let directory: String

    init(directory: String) {
        self.directory = directory
    }

    var capturePath: String { directory + "/capture.tmp" }

    /// A new capture (the directory is created, an old capture emptied). When the file cannot
    /// be opened the capture holds why, and `finish()` reports it.
    func startCapture() -> QuarantineCapture {
        do {
            try PathCalls.ensureDirectory(directory, permissions: [.ownerReadWriteExecute])
            let file = try SystemFile.open(
                capturePath,
                .writeOnly,
                options: [.create, .truncate],
                permissions: [.ownerReadWrite]
            )
            return QuarantineCapture(file: file, failure: nil)
        } catch {
            return QuarantineCapture(file: nil, failure: error)
        }
    }

    /// Moves the capture of the batch at `url` to its name in the quarantine; its path.
    func keep(batchAt url: String) throws(SystemCallError) -> String {
        let ack = Href.queryValue("ack", in: url).map { $0.filter { $0.isLetter || $0.isNumber } } ?? "unknown"
        let path = "\(directory)/\(WallClock.secondsSince1970())-ack\(ack).json"
        try PathCalls.rename(capturePath, to: path)
        return path
    }
}

/// The bytes of one transfer, written to the quarantine's capture file as they arrive (on the
/// HTTP thread). The first failure (opening the file, or a write) ends the capture and is kept
/// for the log.
final class QuarantineCapture: Sendable {
    private let state: Locked<(file: SystemFile?, failure: SystemCallError?)>

    init(file: SystemFile?, failure: SystemCallError?) {
        state = Locked((file, failure))
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { state in
            guard let file = state.file, state.failure == nil else { return }
            if case .failure(let error) = Result(catching: { () throws(SystemCallError) in try file.writeAll(bytes) }) {
                state.failure = error
            }
        }
    }

    /// Closes the file; why the capture is missing or incomplete, if it is.
    func finish() -> SystemCallError? {
        state.withLock { state in
            state.file?.close()
            state.file = nil
            return state.failure
        }
    }
}
