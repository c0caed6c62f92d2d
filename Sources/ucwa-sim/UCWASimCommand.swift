import ArgumentParser
import SystemCalls
import SystemPackage
import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-sim`: the project's UCWA simulator, by hand. Prints its DiscoverURL and plays
/// participant invitations until interrupted.
@main
struct UCWASim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ucwa-sim",
        abstract: "Run the UCWA simulator on loopback (autodiscover, OAuth, applications, event channel, invitations)."
    )

    @Option(help: "Port on 127.0.0.1 (0: any free port).")
    var port = 0

    @Option(help: "User name the token endpoint accepts.")
    var username = SimulatorOptions().username

    @Option(help: "File holding the password the token endpoint accepts (default: the simulator's built-in one).")
    var passwordFile: String?

    @Option(help: "Invitations to play (0: none, the channel only idles).")
    var invitations = 10

    @Option(help: "Milliseconds between invitations.")
    var intervalMs = 1000

    @Option(help: "Token lifetime in seconds.")
    var tokenLifetime = 8 * 3600

    @Flag(help: "Invitation events carry only the link (clients must GET the resource).")
    var linkOnly = false

    @Flag(help: "Rels carry the ms:rtc:saas: prefix.")
    var prefixedRels = false

    @Flag(help: "The autodiscover root redirects to a second pool.")
    var redirectAutodiscover = false

    @Flag(help: "The user resource redirects to a second pool (a second token is needed there).")
    var redirectUser = false

    @Option(
        help:
            "Invitations queued before the first client connects (for benchmarks: the client drains them at full speed)."
    )
    var preload = 0

    @Option(help: "Most events in one batch.")
    var maxEventsPerBatch = SimulatorOptions().maxEventsPerBatch

    @Flag(
        help:
            "Each played invitation's subject is `t=<CLOCK_MONOTONIC nanoseconds>` at the moment it is queued (latency benchmarks); playing starts 200 ms after the first application is created."
    )
    var stampSubjects = false

    @Flag(
        help:
            "Once every preloaded event is acknowledged, print `drained events=N seconds=S` (from the first batch formed to the last acknowledgement)."
    )
    var reportDrain = false

    @Flag(
        help:
            "Play the scenario of `ucwa-eventd demo` (--invitations of them, 30 ms apart), print `demo-done events=N applications=A tokens=T acknowledged=K` once every event is acknowledged, and exit when standard input closes."
    )
    var demo = false

    @Flag(
        help:
            "With --demo: inject faults along the way (dropped connection, 503, resync, revoked token, 1-byte chunks, lost application)."
    )
    var faults = false

    func validate() throws {
        if faults && !demo { throw ValidationError("--faults is only meaningful with --demo") }
    }

    func run() async throws {
        var options = SimulatorOptions(
            username: username,
            tokenLifetime: .seconds(tokenLifetime),
            redirectAutodiscover: redirectAutodiscover,
            redirectUser: redirectUser,
            prefixedRels: prefixedRels,
            embedResources: !linkOnly,
            maxEventsPerBatch: maxEventsPerBatch
        )
        options.recordRequests = !(reportDrain || stampSubjects)
        if let passwordFile {
            options.password = try Self.readFirstLine(passwordFile)
        }
        let simulator = try await UCWASimulator.start(options: options, port: port)
        var preloadedEvents = 0
        for index in 0..<preload {
            let script = Self.script(index, subject: "Preloaded invitation \(index + 1)")
            preloadedEvents += script.eventCount
            await simulator.play(script)
        }
        Self.say("DiscoverURL=\(simulator.discoverURL)")
        Self.say("Username=\(username)")
        if demo {
            DemoScenario.exitWhenStandardInputCloses()
            let events = try await DemoScenario.play(invitations: invitations, faults: faults, on: simulator)
            Self.say(DemoScenario.done(events: events, await simulator.stats()))
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        if reportDrain {
            Task { try await Self.reportDrain(of: preloadedEvents, simulator) }
        }
        if stampSubjects {
            while await simulator.stats().applicationsCreated == 0 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(200))
        }
        for index in 0..<invitations {
            try await Task.sleep(for: .milliseconds(intervalMs))
            let subject = stampSubjects ? "t=\(Self.monotonicNanoseconds())" : "Invitation \(index + 1)"
            let href = await simulator.play(Self.script(preload + index, subject: subject))
            if !stampSubjects { Self.say("played \(href)") }
        }
        // Serve until interrupted.
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
    }

    /// The `index`th invitation: every outcome in turn, one in seven without `started`.
    static func script(_ index: Int, subject: String) -> InvitationScript {
        let outcomes = InvitationOutcome.variety
        return InvitationScript(
            to: "sip:user\(index)@contoso.com",
            subject: subject,
            outcome: outcomes[index % outcomes.count],
            withStarted: index % 7 != 6
        )
    }

    /// Waits until `events` events are acknowledged, then prints how long draining them took.
    static func reportDrain(of events: Int, _ simulator: UCWASimulator) async throws {
        while true {
            let stats = await simulator.stats()
            if stats.eventsAcknowledged >= events, let first = stats.firstEventsBatchFormed,
                let last = stats.lastEventsAcknowledged
            {
                let elapsed = last - first
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                say("drained events=\(stats.eventsAcknowledged) seconds=\(seconds)")
                return
            }
            // Only detects the end: the figure comes from the stamps, so polling rarely costs no precision.
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func monotonicNanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }

    /// One line on stdout, flushed at once (a pipe would otherwise hold it).
    static func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func readFirstLine(_ path: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try SystemFile.open(path, .readOnly).closeAfter { file throws(SystemCallError) in
                try file.readToEnd(limit: 1 << 16)
            }
        } catch {
            throw ValidationError("\(path): cannot read the password file (\(error))")
        }
        let line =
            bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        var text = String(decoding: line, as: UTF8.self)
        while text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
