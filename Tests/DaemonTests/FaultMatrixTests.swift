import Foundation
import Logging
import Testing
import UCWATestSupport

@testable import Eventd
@testable import Locking
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// Diagnostics of one run, kept for the row's check.
final class CapturedLog: Sendable {
    let lines = Locked<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let extra = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        log.lines.withLock { $0.append("\(event.level): \(event.message) \(extra)") }
    }
}

/// The fault matrix: for each fault the daemon (in-process, real sockets, the simulator) keeps
/// running, writes every invitation event of the scenario exactly once, in order per
/// invitation, and says what happened in its diagnostics. The suite prints the table. Each row
/// has its own simulator (its own port), state directory, log and stop signal: the rows run
/// side by side.
@Suite struct FaultMatrixTests {
    struct Row: Sendable {
        var name: String
        var options = SimulatorOptions()
        /// Injected after the first invitations, while the channel runs.
        var faults: [SimulatorFault] = []
        var scripts: [InvitationScript] = [InvitationScript(), InvitationScript(outcome: .declined)]
        /// A diagnostic to wait for before the second half ("" for none): the fault has
        /// happened, whatever the machine's load (a fixed pause was sometimes too short).
        var awaiting = ""
        /// How far the daemon's clock is stepped before the second half (token expiry by
        /// time); zero: the daemon keeps the real clock.
        var step: Duration = .zero
        var limits: JSONLimits = .eventChannel
        /// What the diagnostics must mention ("" for nothing in particular).
        var diagnostic: String
        /// Events that cannot arrive by design (a skipped malformed batch), counted out.
        var lostBatch = false
        /// Records that must appear besides invitations.
        var resets: [String] = []
    }

    static let rows: [Row] = [
        Row(
            name: "connection dropped mid-body",
            faults: [.dropConnectionMidBody],
            diagnostic: "event channel poll failed, retrying"
        ),
        Row(name: "body in 1-byte chunks", faults: [.oneByteChunks], diagnostic: ""),
        Row(name: "body stalls mid-batch", faults: [.stallMidBody], diagnostic: "Timeout was reached"),
        // The parked poll ends normally after 1 s; the next one gets no answer at all, and the
        // second half comes once the daemon gave up on it.
        Row(
            name: "server silent past the long-poll timeout",
            faults: [.silentPoll],
            awaiting: "Timeout was reached",
            diagnostic: "Timeout was reached"
        ),
        Row(name: "HTTP 500", faults: [.eventsStatus(500, retryAfterSeconds: nil)], diagnostic: "HTTP 500"),
        Row(
            name: "HTTP 503 with Retry-After",
            faults: [.eventsStatus(503, retryAfterSeconds: 1)],
            diagnostic: "HTTP 503"
        ),
        Row(name: "HTTP 429", faults: [.eventsStatus(429, retryAfterSeconds: nil)], diagnostic: "HTTP 429"),
        Row(name: "401 mid-run (token revoked)", faults: [.revokeTokens], diagnostic: "token granted"),
        Row(
            name: "token expiry by time",
            options: SimulatorOptions(tokenLifetime: .seconds(100)),
            step: .seconds(80),
            diagnostic: "token close to expiry, refreshing"
        ),
        Row(
            name: "404 ApplicationNotFound mid-run",
            faults: [.applicationGone],
            diagnostic: "application gone, creating a new one",
            resets: ["application_not_found"]
        ),
        Row(
            name: "410 InactiveApplicationExpired",
            faults: [.applicationExpired],
            diagnostic: "application gone, creating a new one",
            resets: ["application_expired"]
        ),
        Row(name: "resync", faults: [.resync], diagnostic: "event channel reset", resets: ["resync"]),
        Row(name: "resume", faults: [.resume], diagnostic: "event channel reset", resets: ["resume"]),
        Row(
            name: "malformed batch (skipped once its next is known)",
            faults: [.malformedBatch],
            diagnostic: "batch keeps failing to decode; skipping it",
            lostBatch: true,
            resets: ["batch_skipped"]
        ),
        Row(
            name: "batch over the size limit",
            scripts: [InvitationScript(), InvitationScript(subject: String(repeating: "big ", count: 2000))],
            limits: JSONLimits(maxDocumentBytes: 6000),
            diagnostic: "batch keeps failing to decode; skipping it",
            lostBatch: true,
            resets: ["batch_skipped"]
        ),
        Row(
            name: "invitation GET answering 404",
            options: SimulatorOptions(embedResources: false),
            faults: [.invitationStatus(404)],
            diagnostic: ""
        ),
        Row(
            name: "invitation GET answering 500",
            options: SimulatorOptions(embedResources: false),
            faults: [.invitationStatus(500)],
            diagnostic: ""
        ),
        Row(
            name: "invitation GET answering slowly",
            options: SimulatorOptions(embedResources: false),
            faults: [.slowInvitation(.milliseconds(500))],
            diagnostic: ""
        ),
        Row(
            name: "completed without started",
            scripts: [InvitationScript(withStarted: false, withAlerting: false), InvitationScript(withStarted: false)],
            diagnostic: ""
        ),
        Row(
            name: "autodiscover redirect",
            options: SimulatorOptions(redirectAutodiscover: true),
            diagnostic: "application ready"
        ),
        Row(
            name: "user redirect to another pool",
            options: SimulatorOptions(redirectUser: true),
            diagnostic: "token granted"
        ),
        Row(name: "ms:rtc:saas: prefixed rels", options: SimulatorOptions(prefixedRels: true), diagnostic: ""),
    ]

    static let table = Locked<[String]>([])

    @Test(arguments: rows.indices)
    func faultRow(index: Int) async throws {
        let row = Self.rows[index]
        let simulator = try await UCWASimulator.start(options: row.options)
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        let log = CapturedLog()
        var configuration = Configuration()
        configuration.discoverURL = simulator.discoverURL
        configuration.username = SimulatorOptions().username
        configuration.stateDirectory = directory + "/state"
        configuration.resolveConcurrency = 4
        let stop = StopSignal()
        let clock = SteppingClock()
        var daemon = Daemon(
            configuration: configuration,
            password: SimulatorOptions().password,
            environment: [:],
            logger: Logger(label: "matrix") { _ in CapturingLogHandler(log: log) },
            stop: stop,
            clock: row.step > .zero ? DaemonClock(clock) : .continuous
        )
        daemon.timeoutOverride = 1
        daemon.grace = .seconds(1)
        daemon.channelLimits = row.limits
        daemon.policy = RetryPolicy(
            initialDelay: .milliseconds(50),
            maximumDelay: .milliseconds(300),
            jitter: 0,
            maximumRetryAfter: .seconds(2)
        )
        let runner = daemon
        let task = Task { await runner.run(sink: .stdout(descriptor: output)) }

        // First half, then the faults, then the second half.
        var hrefs: [String] = []
        var expected = 0
        let half = max(1, row.scripts.count / 2)
        for script in row.scripts.prefix(half) {
            hrefs.append(await simulator.play(script))
            expected += Self.count(script)
        }
        try await simulator.waitForAcknowledged(expected)
        for fault in row.faults { await simulator.inject(fault) }
        if !row.awaiting.isEmpty { try await Self.waitForLog(log, row.awaiting) }
        clock.advance(by: row.step)
        var lost = 0
        for (position, script) in row.scripts.dropFirst(half).enumerated() {
            hrefs.append(await simulator.play(script))
            expected += Self.count(script)
            if row.lostBatch && position == 0 { lost = Self.count(script) }
        }
        if row.lostBatch {
            // The malformed batch is skipped: what follows must still arrive.
            let after = InvitationScript(subject: "after the bad batch")
            try await Self.waitForLog(log, "skipping it")
            hrefs.append(await simulator.play(after))
            expected += Self.count(after)
        }
        try await Self.waitForRecords(directory + "/records.jsonl", invitationEvents: expected - lost)
        stop.request()
        let code = await task.value
        let stats = await simulator.stats()
        await simulator.shutdown()

        let records = try DaemonTests.records(directory + "/records.jsonl")
        let invitations = records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }
        var byEvent: [String: Int] = [:]
        for record in invitations {
            byEvent[
                "\(record["invitation_href"]?.stringValue ?? "") \(record["event_type"]?.stringValue ?? "")",
                default: 0
            ] += 1
        }
        let exactlyOnce = byEvent.values.allSatisfy { $0 == 1 } && invitations.count == expected - lost
        // In order per invitation: started before updated before completed.
        var inOrder = true
        for href in Set(invitations.compactMap { $0["invitation_href"]?.stringValue }) {
            let types = invitations.filter { $0["invitation_href"]?.stringValue == href }.compactMap {
                $0["event_type"]?.stringValue
            }
            let ranks = types.map { ["started": 0, "updated": 1, "completed": 2][$0] ?? 9 }
            if ranks != ranks.sorted() { inOrder = false }
        }
        let resets = records.compactMap { $0["reset_reason"]?.stringValue }
        let diagnosticSeen =
            row.diagnostic.isEmpty || row.diagnostic.split(separator: "|").contains { log.text.contains($0) }
        // A skipped batch is kept under state/quarantine/, as received.
        let quarantined =
            (try? FileManager.default.contentsOfDirectory(atPath: directory + "/state/quarantine"))?.filter {
                $0.hasSuffix(".json")
            } ?? []
        let quarantineRight = row.lostBatch ? quarantined.count == 1 : quarantined.isEmpty
        let outcome = exactlyOnce && inOrder && code == 0 && resets == row.resets && diagnosticSeen && quarantineRight
        Self.table.withLock {
            $0.append(
                String(
                    format: "%-52@ %-4@ events %3d/%3d  resets %-24@ exit %d",
                    row.name as NSString,
                    (outcome ? "ok" : "FAIL") as NSString,
                    invitations.count,
                    expected - lost,
                    (resets.isEmpty ? "-" : resets.joined(separator: ",")) as NSString,
                    code
                )
            )
        }
        print(
            "fault matrix | \(row.name) | \(outcome ? "ok" : "FAIL") | \(invitations.count)/\(expected - lost) invitation events, resets \(resets), acknowledged \(stats.eventsAcknowledged), exit \(code)"
        )
        #expect(code == 0, "\(row.name)")
        #expect(
            exactlyOnce,
            "\(row.name): \(byEvent.filter { $0.value != 1 }) count \(invitations.count) of \(expected - lost): \(byEvent.keys.sorted())"
        )
        #expect(inOrder, "\(row.name)")
        #expect(resets == row.resets, "\(row.name)")
        #expect(quarantineRight, "\(row.name): quarantine holds \(quarantined)")
        if row.name.hasPrefix("malformed"), let file = quarantined.first {
            let saved = (try? String(contentsOfFile: directory + "/state/quarantine/" + file, encoding: .utf8)) ?? ""
            #expect(saved.contains(#""sender":[,"#), "the saved batch is the bytes as received")
        }
        #expect(diagnosticSeen, "\(row.name): diagnostics lack '\(row.diagnostic)':\n\(log.text)")
    }

    /// Rows where the right outcome is a clear stop, not records: the daemon must not loop or
    /// fall back to something weaker.
    @Test(arguments: [
        (
            "a DNS name that does not resolve", "https://lyncdiscover.does-not-exist.invalid/", Int32(75),
            "lyncdiscover.does-not-exist.invalid"
        ),
        (
            "plain HTTP to a host that is not loopback", "http://lyncdiscover.contoso.invalid/", Int32(78),
            "AllowInsecureHTTP"
        ),
    ])
    func stopRow(name: String, discoverURL: String, exitCode: Int32, diagnostic: String) async throws {
        let log = CapturedLog()
        var configuration = Configuration()
        configuration.discoverURL = discoverURL
        configuration.username = "alice@contoso.com"
        configuration.stateDirectory = TestPaths.temporaryDirectory("ucwa-daemon") + "/state"
        var daemon = Daemon(
            configuration: configuration,
            password: "x",
            environment: [:],
            logger: Logger(label: "matrix") { _ in CapturingLogHandler(log: log) },
            stop: StopSignal()
        )
        daemon.policy = RetryPolicy(
            initialDelay: .milliseconds(20),
            maximumDelay: .milliseconds(50),
            jitter: 0,
            maximumAttempts: 3
        )
        let code = await daemon.run(sink: .stdout(descriptor: 2))
        let seen = log.text.contains(diagnostic)
        print(
            "fault matrix | \(name) | \(code == exitCode && seen ? "ok" : "FAIL") | exit \(code), diagnostics name '\(diagnostic)': \(seen)"
        )
        #expect(code == exitCode)
        #expect(seen, "\(log.text)")
    }

    static func count(_ script: InvitationScript) -> Int {
        (script.withStarted ? 1 : 0) + (script.withAlerting ? 1 : 0) + 1
    }

    static func waitForRecords(_ path: String, invitationEvents: Int) async throws {
        let arrived = try await waitAtMost(.seconds(30)) {
            let records = (try? DaemonTests.records(path)) ?? []
            return records.filter({ $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }).count
                >= invitationEvents
        }
        // A little longer: a duplicate would show up now.
        if arrived { try await Task.sleep(for: .milliseconds(300)) }
    }

    static func waitForLog(_ log: CapturedLog, _ text: String) async throws {
        try await waitAtMost(.seconds(30)) { log.text.contains(text) }
    }
}
