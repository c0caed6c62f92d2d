import ArgumentParser
import Eventd
import StreamingJSON
import SystemCalls
import SystemPackage
import UCWA

/// `ucwa-eventd replay FILE...`: decodes saved event-channel response bodies and prints the
/// lifecycle records they yield (resources only from `_embedded`; `--raw`: one line per decoded
/// event instead) on stdout. Files are streamed in 64 KiB chunks through the same decoder
/// the daemon uses, without a total size limit, so memory stays flat for any file size. A file
/// that fails to decode, or that holds valid JSON which is not an event batch, is reported on
/// stderr with its name (and the error's position); the exit status is then 65 (EX_DATAERR),
/// after the other files have been replayed (the events a broken file yielded before its error
/// are printed). A body with no events but a `resync` link is reported on stderr.
///
/// Hrefs in records are absolute, as the daemon writes them: resolved against the body's
/// `baseuri` wherever it is in the file (records wait for it as the daemon's do, `BodyBaseHold`;
/// a file with more events than the hold before its `baseuri` is read twice), else against
/// `--base-url`, the URL the body was fetched from.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Decode saved event-channel bodies and print the records they yield."
    )

    @Argument(help: "Files holding event-channel response bodies, as captured from the wire.")
    var files: [String]

    @Flag(help: "Print only a one-line summary per file (on stderr), not the events.")
    var summary = false

    @Option(help: "Read size in bytes (1 byte up to 16 MiB); the decoder takes any split.")
    var chunkSize = 65536

    @Flag(help: "Print each decoded event as it is (not the lifecycle records).")
    var raw = false

    @Option(help: "Which events become records: participant-invitations, invitations or all.")
    var events: String = EventFilter.all.rawValue

    @Option(
        help: ArgumentHelp(
            "The absolute URL the bodies were fetched from: relative hrefs resolve against a body's baseuri, else this.",
            discussion:
                "The default, https://ucwa.invalid/, is a reserved name (RFC 6761) that says the origin is unknown."
        )
    )
    var baseURL = ReplayCommand.unknownOrigin

    static let unknownOrigin = "https://ucwa.invalid/"

    /// Most events a body may hold back while its `baseuri` has not come.
    static let holdLimit = 1024

    func validate() throws {
        guard (1...(16 << 20)).contains(chunkSize) else {
            throw ValidationError("--chunk-size must be between 1 and 16777216")
        }
        guard EventFilter(rawValue: events) != nil else {
            throw ValidationError("--events must be participant-invitations, invitations or all")
        }
        guard Href.scheme(of: baseURL) != nil, Href.host(of: baseURL) != nil else {
            throw ValidationError("--base-url must be an absolute URL such as https://pool.contoso.com/")
        }
    }

    func run() throws {
        let output = OutputStream(output: .standardOutput)
        var failures = 0
        var builder = RecordBuilder(account: "replay", filter: EventFilter(rawValue: events) ?? .all)
        var counters = RecordCounters()
        for path in files {
            let name = UserText.sanitize(path, limit: .max)
            do {
                let result = try replay(path, into: output, builder: &builder, counters: &counters)
                var line = "\(name): \(result.events) events, \(result.bytes) bytes"
                for kind in BatchLinkKind.allCases where kind != .self {
                    if let href = result.links[kind] {
                        line += ", \(kind.rawValue)=\(UserText.sanitize(href, limit: .max))"
                    }
                }
                if summary { Diagnostics.print(line) }
                if !result.isBatch {
                    failures += 1
                    Diagnostics.print(
                        "\(name): valid JSON, but not an event batch (no \"sender\" array and no next, resume or resync link)"
                    )
                } else if result.events == 0, let resync = result.links[.resync], !summary {
                    Diagnostics.print(
                        "\(name): no events, only a resync link (the client lost its place; the server would start again at \(UserText.sanitize(resync, limit: .max)))"
                    )
                }
            } catch {
                try endIfOutputFailed(output)
                failures += 1
                Diagnostics.print("\(name): \(error.message)")
            }
            try endIfOutputFailed(output)
        }
        output.flush()
        try endIfOutputFailed(output)
        if failures > 0 {
            throw ExitCode(65)
        }
    }

    /// Ends the command when writing standard output failed: quietly with 0 when its reader
    /// went away (`| head`), else with the error and 74 (EX_IOERR).
    private func endIfOutputFailed(_ output: OutputStream) throws {
        guard let failure = output.failure else { return }
        if failure.errno == .brokenPipe { throw ExitCode.success }
        Diagnostics.print("replay: \(failure.forTerminal)")
        throw ExitCode(74)
    }

    /// What replaying one file found, for its summary line and its checks.
    struct ReplayedFile {
        var events = 0
        var bytes = 0
        var links = BatchLinks()
        /// A `sender` array or a next/resume/resync link was seen.
        var isBatch = true
    }

    /// Streams one file through the batch decoder (twice when its events outran the wait for
    /// its `baseuri`).
    func replay(
        _ path: String,
        into output: OutputStream,
        builder: inout RecordBuilder,
        counters: inout RecordCounters
    ) throws(ReplayError) -> ReplayedFile {
        var pinnedBase: String?
        var skip = 0
        while true {
            let (result, again) = try replayOnce(
                path,
                into: output,
                builder: &builder,
                counters: &counters,
                pinnedBase: pinnedBase,
                skip: skip
            )
            guard let again else { return result }
            (pinnedBase, skip) = again
        }
    }

    /// One read of the file; `again` is the base and the events printed when it must be read
    /// once more.
    private func replayOnce(
        _ path: String,
        into output: OutputStream,
        builder: inout RecordBuilder,
        counters: inout RecordCounters,
        pinnedBase: String?,
        skip: Int
    ) throws(ReplayError) -> (ReplayedFile, again: (base: String, skip: Int)?) {
        let file: InputFile
        do { file = try InputFile(path: path) } catch { throw ReplayError(message: error.forTerminal) }
        defer { file.close() }
        let source = summary ? nil : path
        var decoder = EventBatchDecoder(
            consumer: LinePrinter(
                output: output,
                source: source,
                printing: !summary,
                builder: raw ? nil : builder,
                counters: counters,
                hold: BodyBaseHold(requestURL: baseURL, pinnedBase: pinnedBase, limit: Self.holdLimit),
                skip: skip
            ),
            limits: JSONLimits(maxDocumentBytes: nil)
        )
        defer {
            if let used = decoder.consumer.builder { builder = used }
            counters = decoder.consumer.counters
        }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        do {
            while true {
                let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { bytes in
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
                }
                output.flushIfFull()
                if let failure = output.failure { throw failure }
            }
            try decoder.finish()
        } catch let error as JSONError {
            // The events before the error still go, with the base known by then.
            _ = decoder.consumer.end()
            throw ReplayError(message: "not a valid event batch: \(error)")
        } catch let error as SystemCallError {
            throw ReplayError(message: error.forTerminal)
        } catch {
            throw ReplayError(message: "\(error)")
        }
        let again = decoder.consumer.end()
        let links = decoder.consumer.links
        let isBatch = decoder.sawSenderArray || links.next != nil || links.resume != nil || links.resync != nil
        let result = ReplayedFile(
            events: decoder.eventCount,
            bytes: decoder.bytesConsumed,
            links: links,
            isBatch: isBatch
        )
        return (result, again ? (decoder.consumer.hold.base, decoder.consumer.printed) : nil)
    }
}

struct ReplayError: Error {
    var message: String
}

/// Writes each decoded event (or its record) as a JSON line into the output buffer. Records
/// wait in `hold` until the body's base is known, as the daemon's do.
struct LinePrinter: EventBatchConsumer {
    let output: OutputStream
    let source: String?
    let printing: Bool
    var links = BatchLinks()
    var writer = JSONWriter(capacity: 1024)
    /// Records mode (nil: raw event lines).
    var builder: RecordBuilder?
    /// The records' sequence numbers and open invitations, across files.
    var counters: RecordCounters
    var hold: BodyBaseHold
    /// Events below this ordinal were printed by an earlier read of the file.
    let skip: Int
    /// Events printed (by ordinal: the next one to print).
    private(set) var printed: Int

    init(
        output: OutputStream,
        source: String?,
        printing: Bool,
        builder: RecordBuilder?,
        counters: RecordCounters,
        hold: BodyBaseHold,
        skip: Int
    ) {
        self.output = output
        self.source = source
        self.printing = printing
        self.builder = builder
        self.counters = counters
        self.hold = hold
        self.skip = skip
        printed = skip
    }

    mutating func event(_ event: UCWAEvent) {
        guard printing, event.position.ordinal >= skip else { return }
        guard builder != nil else {
            // Raw events carry their hrefs as sent: nothing to wait for.
            writer.bytes.removeAll(keepingCapacity: true)
            event.writeJSONLine(into: &writer, source: source)
            writer.bytes.append(UInt8(ascii: "\n"))
            output.write(writer.bytes)
            return
        }
        if let ready = hold.take(event) { print(ready) }
    }

    mutating func batchLink(_ kind: BatchLinkKind, href: String) { links[kind] = href }

    mutating func baseURI(_ uri: String) {
        for ready in hold.baseURI(uri) { print(ready) }
    }

    /// The end of the body: what was held goes; true when the file must be read again.
    mutating func end() -> Bool {
        let (events, again) = hold.end()
        for ready in events { print(ready) }
        return again
    }

    /// Resources only from `_embedded`, resolved as the daemon resolves them.
    private var fromBody = EmbeddedResolver()

    private mutating func print(_ event: UCWAEvent) {
        writer.bytes.removeAll(keepingCapacity: true)
        let resolved = fromBody.resolve(event, baseURL: hold.base)
        let file = source ?? ""
        printed = event.position.ordinal + 1
        guard
            let record = builder!.record(
                for: resolved,
                application: "replay:" + file,
                batch: file,
                now: WallClock.microsecondsSince1970(),
                ledger: &counters
            )
        else { return }
        record.writeJSONLine(into: &writer)
        output.write(writer.bytes)
    }
}
