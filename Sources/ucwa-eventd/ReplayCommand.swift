import ArgumentParser
import Eventd
import StreamingJSON
import UCWA

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-eventd replay FILE...`: decodes saved event-channel response bodies and prints the
/// lifecycle records they yield (resources only from `_embedded`; `--raw`: one line per decoded
/// event instead) on stdout. Files are streamed in 64 KiB chunks through the same decoder
/// the daemon uses, without a total size limit, so memory stays flat for any file size. A file
/// that fails to decode is reported on stderr with its name and the error's position; the exit
/// status is then 65 (EX_DATAERR), after the other files have been replayed (the events it
/// yielded before the error are printed).
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

    func validate() throws {
        guard (1...(16 << 20)).contains(chunkSize) else {
            throw ValidationError("--chunk-size must be between 1 and 16777216")
        }
        guard EventFilter(rawValue: events) != nil else {
            throw ValidationError("--events must be participant-invitations, invitations or all")
        }
    }

    func run() throws {
        let output = OutputStream(fileDescriptor: 1)
        var failures = 0
        var builder = RecordBuilder(account: "replay", filter: EventFilter(rawValue: events) ?? .all)
        for path in files {
            do {
                let result = try replay(path, into: output, builder: &builder)
                var line = "\(Sanitize.forTerminal(path)): \(result.events) events, \(result.bytes) bytes"
                for kind in BatchLinkKind.allCases where kind != .self {
                    if let href = result.links[kind] { line += ", \(kind.rawValue)=\(Sanitize.forTerminal(href))" }
                }
                if summary { Diagnostics.print(line) }
            } catch {
                failures += 1
                Diagnostics.print("\(Sanitize.forTerminal(path)): \(error.message)")
            }
        }
        output.flush()
        if failures > 0 {
            throw ExitCode(65)
        }
    }

    struct Result {
        var events = 0
        var bytes = 0
        var links: [BatchLinkKind: String] = [:]
    }

    /// Streams one file through the batch decoder.
    func replay(_ path: String, into output: OutputStream, builder: inout RecordBuilder) throws(ReplayError) -> Result {
        let file: InputFile
        do { file = try InputFile(path: path) } catch { throw ReplayError(message: error.description) }
        defer { file.close() }
        let source = summary ? nil : path
        var decoder = EventBatchDecoder(
            consumer: LinePrinter(output: output, source: source, printing: !summary, builder: raw ? nil : builder),
            limits: JSONLimits(maxDocumentBytes: nil))
        defer { if let used = decoder.consumer.builder { builder = used } }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        do {
            while true {
                let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { bytes in
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
                }
                output.flushIfFull()
            }
            try decoder.finish()
        } catch let error as JSONError {
            throw ReplayError(message: "not a valid event batch: \(error)")
        } catch let error as SystemError {
            throw ReplayError(message: error.description)
        } catch {
            throw ReplayError(message: "\(error)")
        }
        return Result(events: decoder.eventCount, bytes: decoder.bytesConsumed, links: decoder.consumer.links)
    }
}

struct ReplayError: Error {
    var message: String
}

/// Writes each decoded event as a JSON line into the output buffer.
struct LinePrinter: EventBatchConsumer {
    let output: OutputStream
    let source: String?
    let printing: Bool
    var links: [BatchLinkKind: String] = [:]
    var writer = JSONWriter(capacity: 1024)
    /// Records mode (nil: raw event lines).
    var builder: RecordBuilder?
    var base: String?

    init(output: OutputStream, source: String?, printing: Bool, builder: RecordBuilder?) {
        self.output = output
        self.source = source
        self.printing = printing
        self.builder = builder
    }

    mutating func event(_ event: UCWAEvent) {
        guard printing else { return }
        writer.bytes.removeAll(keepingCapacity: true)
        if builder != nil {
            let href = base.flatMap { Href.resolve(event.link.href.string, against: $0) } ?? event.link.href.string
            let resolved = ResolvedEvent(
                event: event, href: UCWARel.isInvitation(event.link.rel) ? href : "",
                resource: event.invitation, resolution: event.invitation != nil ? .embedded : .none)
            let file = source ?? ""
            guard let record = builder!.record(for: resolved, application: "replay:" + file, batch: file, now: WallClock.microsecondsSince1970()) else { return }
            record.writeJSONLine(into: &writer)
        } else {
            event.writeJSONLine(into: &writer, source: source)
            writer.bytes.append(UInt8(ascii: "\n"))
        }
        output.write(writer.bytes)
    }

    mutating func batchLink(_ kind: BatchLinkKind, href: String) { links[kind] = href }
    mutating func baseURI(_ uri: String) { base = uri }

}
