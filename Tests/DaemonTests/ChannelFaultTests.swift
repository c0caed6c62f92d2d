import Foundation
import Logging
import Testing
import UCWATestSupport

@testable import Eventd
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// Issue 15, items 1 and 4–7: the daemon (in-process, real sockets, the simulator) under
/// 403, 410, 409 and a resync storm. Each test waits on the event itself (records written,
/// a request the server saw, the daemon's exit, a STATUS= text), not on a fixed sleep.
@Suite struct ChannelFaultTests {
    /// One daemon against a simulator, records in a file, diagnostics captured.
    final class Running: Sendable {
        let simulator: UCWASimulator
        let directory: String
        let log = CapturedLog()
        let stop = StopSignal()
        let status: DaemonStatus
        let task: Task<Int32, Never>

        init(
            options: SimulatorOptions = SimulatorOptions(),
            policy: RetryPolicy = RetryPolicy(
                initialDelay: .milliseconds(50),
                maximumDelay: .milliseconds(300),
                jitter: 0,
                maximumRetryAfter: .seconds(5)
            ),
            clock: DaemonClock = .continuous,
            before: (UCWASimulator) async -> Void = { _ in }
        ) async throws {
            simulator = try await UCWASimulator.start(options: options)
            await before(simulator)
            directory = TestPaths.temporaryDirectory("ucwa-daemon")
            let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
            var configuration = Configuration()
            configuration.discoverURL = simulator.discoverURL
            configuration.username = SimulatorOptions().username
            configuration.stateDirectory = directory + "/state"
            let log = self.log
            var daemon = Daemon(
                configuration: configuration,
                password: SimulatorOptions().password,
                environment: [:],
                logger: Logger(label: "faults") { _ in CapturingLogHandler(log: log) },
                stop: stop,
                clock: clock
            )
            let status = DaemonStatus(notifier: Notifier(environment: [:]), stats: daemon.stats)
            self.status = status
            daemon.status = status
            daemon.timeoutOverride = 1
            daemon.grace = .seconds(1)
            daemon.policy = policy
            let runner = daemon
            task = Task {
                defer { close(output) }
                return await runner.run(sink: .stdout(descriptor: output))
            }
        }

        var records: [JSONValue] { (try? DaemonTests.records(directory + "/records.jsonl")) ?? [] }
        var invitationRecords: [JSONValue] {
            records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }
        }
        var resets: [JSONValue] { records.filter { $0["event_name"]?.stringValue == "ucwa.channel.reset" } }

        func waitForInvitationRecords(_ count: Int) async throws {
            try await waitUntil("\(count) invitation records; log:\n\(log.text)", timeout: .seconds(30)) {
                invitationRecords.count >= count
            }
        }

        /// Waits until `condition` holds (at most 30 s).
        func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
            try await waitUntil("\(what); log:\n\(log.text)", timeout: .seconds(30), condition)
        }

        /// Waits for the daemon to end by itself (a failure that needs an operator).
        func exitCode(within timeout: Duration = .seconds(30)) async throws -> Int32 {
            guard let code = await value(of: task, within: timeout) else {
                stop.request()
                let requests = await simulator.stats().requests.joined(separator: "\n  ")
                Issue.record("the daemon did not end by itself; log:\n\(log.text)\nrequests:\n  \(requests)")
                throw POSIXError(.ETIMEDOUT)
            }
            return code
        }

        func finish() async -> Int32 {
            stop.request()
            let code = await task.value
            await simulator.shutdown()
            return code
        }

        /// How many requests the server saw that start with `prefix`.
        func requests(_ prefix: String) async -> Int {
            await simulator.stats().requests.filter { $0.hasPrefix(prefix) }.count
        }

        /// How many requests the server saw that are exactly `line`.
        func requests(exactly line: String) async -> Int {
            await simulator.stats().requests.filter { $0 == line }.count
        }
    }

    static let root = "GET /autodiscover/autodiscoverservice.svc/root"

    /// The channel is up: one invitation written and acknowledged.
    static func warmedUp(clock: DaemonClock = .continuous) async throws -> Running {
        let daemon = try await Running(clock: clock)
        await daemon.simulator.play(InvitationScript())
        try await daemon.waitForInvitationRecords(3)
        try await daemon.simulator.waitForAcknowledged(3)
        return daemon
    }

    // MARK: 403 (item 5)

    @Test func forbiddenInvalidTokenGetsANewTokenNotTheSameOneAgain() async throws {
        let daemon = try await Self.warmedUp()
        await daemon.simulator.inject(.answer(.events, status: 403, subcode: "InvalidToken"))
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        try await daemon.waitFor("a new token") { await daemon.simulator.stats().tokensIssued >= 2 }
        await daemon.simulator.play(InvitationScript(outcome: .cancelled))
        try await daemon.waitForInvitationRecords(9)
        let stats = await daemon.simulator.stats()
        #expect(stats.tokensIssued == 2, "one new token for 403 InvalidToken")
        #expect(await daemon.requests(exactly: Self.root) == 1, "a token problem is no reason to discover again")
        #expect(stats.applicationsCreated == 1)
        #expect(await daemon.finish() == 0)
        #expect(daemon.invitationRecords.count == 9 && daemon.resets.isEmpty)
    }

    @Test(arguments: [String?.none, "NotAllowed", "MobileApplicationNoLongerAllowed"])
    func forbiddenOtherwiseDiscoversTheServerAgainAndGoesOn(subcode: String?) async throws {
        let daemon = try await Self.warmedUp()
        await daemon.simulator.inject(.answer(.events, status: 403, subcode: subcode))
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        try await daemon.waitFor("a second autodiscovery") { await daemon.requests(exactly: Self.root) >= 2 }
        await daemon.simulator.play(InvitationScript(outcome: .cancelled))
        try await daemon.waitForInvitationRecords(9)
        #expect(
            await daemon.requests(exactly: Self.root) == 2,
            "403 means discovering the server again (protocol notes 1.1)"
        )
        #expect(
            await daemon.simulator.stats().applicationsCreated == 1,
            "the same endpoint id finds the same application"
        )
        #expect(
            daemon.log.text.contains("HTTP 403 on the event channel: discovering the server again"),
            "\(daemon.log.text)"
        )
        #expect(await daemon.finish() == 0)
        #expect(daemon.invitationRecords.count == 9, "nothing lost or repeated")
        #expect(daemon.resets.isEmpty, "the same application: no gap")
    }

    @Test(arguments: [String?.none, "NotAllowed"])
    func forbiddenAgainAfterANewSignInNeedsAnOperator(subcode: String?) async throws {
        let daemon = try await Self.warmedUp()
        // Both at once: the daemon polls without pause, so with two separate injections a busy
        // machine let a whole rediscovery and a good batch run between them (CI, stop 20).
        await daemon.simulator.inject(.answer(.events, status: 403, subcode: subcode), times: 2)
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        let code = try await daemon.exitCode()
        #expect(code == 76, "\(daemon.log.text)")
        #expect(
            daemon.log.text.contains("/ucwa/oauth/v1/applications/101/events?ack="),
            "names the URL: \(daemon.log.text)"
        )
        #expect(
            daemon.log.text.contains("HTTP 403 \(subcode ?? "(no subcode)")"),
            "names the subcode: \(daemon.log.text)"
        )
        #expect(daemon.log.text.contains("administrator"), "says what to do: \(daemon.log.text)")
        await daemon.simulator.shutdown()
    }

    // MARK: 410 (item 6)

    @Test(arguments: [("TooManyApplications", "sign out other clients"), ("UserAgentNotAllowed", "UserAgent=")])
    func goneOtherThanExpiryNeedsAnOperator(subcode: String, advice: String) async throws {
        let daemon = try await Self.warmedUp()
        await daemon.simulator.inject(.answer(.events, status: 410, subcode: subcode))
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        let code = try await daemon.exitCode()
        #expect(code == 76, "exit 76, which the units do not restart; log:\n\(daemon.log.text)")
        let line = daemon.log.text.split(separator: "\n").first { $0.hasPrefix("critical:") } ?? ""
        #expect(line.contains("HTTP 410 \(subcode)") && line.contains("/events?ack="), "names subcode and URL: \(line)")
        #expect(line.contains(advice) && line.contains("systemctl restart"), "says what to do: \(line)")
        #expect(
            await daemon.simulator.stats().applicationsCreated == 1,
            "no new application for a 410 that is not an expiry"
        )
        await daemon.simulator.shutdown()
    }

    @Test(arguments: ["TooManyApplications", "UserAgentNotAllowed"])
    func goneWhenCreatingTheApplicationNeedsAnOperator(subcode: String) async throws {
        let daemon = try await Running { simulator in
            await simulator.inject(.answer(.applications, status: 410, subcode: subcode))
        }
        let code = try await daemon.exitCode()
        #expect(code == 76, "\(daemon.log.text)")
        #expect(daemon.log.text.contains("/ucwa/oauth/v1/applications: HTTP 410 \(subcode)"), "\(daemon.log.text)")
        await daemon.simulator.shutdown()
    }

    // MARK: 409 (item 7)

    @Test func anotherConsumerIsNamedWithTheEventsURLInTheLogAndInStatus() async throws {
        let clock = SteppingClock()
        let daemon = try await Self.warmedUp(clock: DaemonClock(clock))
        await daemon.simulator.inject(.answer(.events, status: 409, subcode: "PGetReplaced", retryAfterSeconds: 3))
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        // STATUS= while the daemon waits after the 409.
        let deadline = ContinuousClock.now + .seconds(20)
        var text = daemon.status.text()
        while !text.hasPrefix("another consumer"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            text = daemon.status.text()
        }
        let events = "\(daemon.simulator.baseURL)/ucwa/oauth/v1/applications/101/events"
        #expect(
            text.hasPrefix(
                "another consumer polls this application (409 PGetReplaced at \(events)): stop the other ucwa-eventd or client signed in as this user; next try in "
            ),
            "\(text)"
        )
        let line =
            daemon.log.text.split(separator: "\n").first { $0.contains("PGetReplaced") && $0.hasPrefix("error:") } ?? ""
        #expect(line.contains("url=\(events)?ack="), "the log names the events URL: \(line)")
        #expect(line.contains("stop it"), "and what to do: \(line)")
        // The backoff after the 409 (Retry-After: 3) passes on the daemon's clock.
        try await daemon.waitFor("the wait after the 409") { clock.sleepers == 1 }
        #expect(clock.nextDeadline == .seconds(3), "Retry-After is the wait")
        clock.advance(by: .seconds(3))
        try await daemon.waitForInvitationRecords(6)
        #expect(await daemon.finish() == 0)
    }

    // MARK: resync storm (item 4)

    /// A server that answers every poll with `resync`: at most a handful of polls in 10 s of
    /// the daemon's clock (with the daemon's default policy), one reset record during the
    /// storm, and one more that says how many answers it merged once a batch ends it. The old
    /// daemon polled 63 times in 3 s and wrote a reset record for each.
    @Test func aResyncStormBacksOffAndMergesItsResets() async throws {
        let clock = SteppingClock()
        let daemon = try await Running(policy: RetryPolicy(), clock: DaemonClock(clock))
        await daemon.simulator.play(InvitationScript())
        try await daemon.waitForInvitationRecords(3)
        try await daemon.simulator.waitForAcknowledged(3)
        let before = await daemon.requests("GET /ucwa/oauth/v1/applications/101/events")
        await daemon.simulator.inject(.resyncStorm)
        // The storm's length is what is measured: 10 s of the daemon's clock, stepped by 0.1 s,
        // each step taken while the daemon waits (a poll takes no time on that clock).
        for _ in 0..<100 {
            try await daemon.waitFor("the daemon to wait between polls") { clock.sleepers == 1 }
            clock.advance(by: .milliseconds(100))
        }
        // The poll the last step woke is answered before the count.
        try await daemon.waitFor("the daemon to wait after the storm") { clock.sleepers == 1 }
        let polls = await daemon.requests("GET /ucwa/oauth/v1/applications/101/events") - before
        print("resync storm: \(polls) polls in 10 s")
        #expect(polls <= 6, "\(polls) polls in 10 s")
        #expect(daemon.resets.count == 1, "one reset record during the storm: \(daemon.resets)")
        await daemon.simulator.update { $0.resyncEveryPoll = false }
        clock.advance(by: .seconds(75))  // the longest wait of the policy: 60 s and 25 % jitter
        await daemon.simulator.play(InvitationScript(outcome: .declined))
        try await daemon.waitForInvitationRecords(6)
        #expect(await daemon.finish() == 0)
        let resets = daemon.resets
        #expect(resets.count == 2, "\(resets)")
        #expect(resets.allSatisfy { $0["reset_reason"]?.stringValue == "resync" })
        let merged = resets.last?["merged_resets"]?.intValue
        #expect(
            merged == polls - 1 || merged == polls,
            "the last reset stands for the storm's other answers: \(String(describing: merged)) of \(polls) polls"
        )
        #expect(resets.first?["merged_resets"] == nil)
    }

    // MARK: internal inconsistency (item 1)

    @Test func anInternalInconsistencyIsExit70NamingStateAndInput() {
        let log = CapturedLog()
        let daemon = Daemon(
            configuration: Configuration(),
            password: "",
            environment: [:],
            logger: Logger(label: "faults") { _ in CapturingLogHandler(log: log) },
            stop: StopSignal()
        )
        let code = daemon.exitCode(
            for: ChannelGaveUp(
                stop: .internalInconsistency(
                    state: "backing off before https://x/e",
                    input: "the end of the poll of https://x/e"
                )
            )
        )
        #expect(code == 70)
        #expect(
            log.text.contains(
                "critical: event channel stopped: internal inconsistency: the event channel got the end of the poll of https://x/e while backing off before https://x/e"
            ),
            "\(log.text)"
        )
        #expect(ExitStatus.internalInconsistency == 70 && ExitStatus.serverRefused == 76)
    }
}
