import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Start, stop and status as systemd expects (issue 13, item 3): `READY=1` before sign-in,
/// `STATUS=` that says what the daemon waits for and until when, and SIGTERM that ends the real
/// binary within a second from every state, exit 0, the checkpoint whole. Each test waits on an
/// event (a request the server saw, a `STATUS=` text), never on a fixed sleep.
@Suite struct StopTests {
    /// The daemon under a notify socket of the test's own.
    static func start(
        _ config: String,
        in directory: String,
        watchdogUSec: Int? = nil
    ) throws -> (ChildProcess, NotifyTests.NotifySocket) {
        let socket = NotifyTests.NotifySocket(directory: directory)
        var environment = ["NOTIFY_SOCKET": socket.path]
        if let watchdogUSec { environment["WATCHDOG_USEC"] = "\(watchdogUSec)" }
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            environment: environment,
            directory: directory
        )
        return (daemon, socket)
    }

    /// SIGTERM; the exit status must be 0 within a second and the checkpoint must parse.
    /// Prints the time for the record (`stop | state | seconds`).
    static func stopWithinASecond(_ daemon: ChildProcess, state: String, directory: String) async throws {
        let start = ContinuousClock.now
        daemon.signal(SIGTERM)
        let code = try await daemon.wait(timeout: .seconds(30))
        let elapsed = ContinuousClock.now - start
        print("stop | \(state) | \(elapsed)")
        #expect(code == 0, "\(state): exit \(code); \(daemon.stderr.suffix(1500))")
        #expect(elapsed < .seconds(1), "\(state): SIGTERM took \(elapsed)")
        let bytes = try #require(
            FileManager.default.contents(atPath: directory + "/state/checkpoint.json"),
            "\(state): no checkpoint"
        )
        let checkpoint = try JSONValue.parse(Array(bytes))
        #expect(
            checkpoint["endpoint_id"]?.stringValue != nil && checkpoint["sequence"]?.intValue != nil,
            "\(state): \(checkpoint)"
        )
    }

    /// The N of "next try in N s" in a STATUS= text.
    static func secondsToNextTry(_ text: String) -> Int? {
        guard let range = text.range(of: "next try in ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    // MARK: sign-in

    /// The server refuses connections: READY=1 comes at once, STATUS= names the URL (without
    /// its query) and the next try, and SIGTERM ends the backoff.
    @Test func unreachableServerIsReadyAtOnceAndSaysWhatItWaitsFor() async throws {
        let refusing = try StubServer.RefusingPort()
        let port = refusing.port
        defer { withExtendedLifetime(refusing) {} }
        let (directory, config) = try RunConfiguration.write(
            username: "alice@contoso.com",
            password: "a password",
            discoverURL: "http://127.0.0.1:\(port)/autodiscover/autodiscoverservice.svc/root?secret=QUERYSECRET"
        )
        let (daemon, socket) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        let waiting = try await socket.waitFor { $0.contains("next try in") }
        let messages = socket.received
        let ready = try #require(messages.firstIndex { $0.hasPrefix("READY=1") }, "\(messages)")
        #expect(
            messages[ready].contains(
                "STATUS=signing in to http://127.0.0.1:\(port)/autodiscover/autodiscoverservice.svc/root"
            ),
            "\(messages)"
        )
        #expect(
            waiting.contains(
                "STATUS=signing in to http://127.0.0.1:\(port)/autodiscover/autodiscoverservice.svc/root: connection refused or unreachable; next try in "
            ),
            "\(waiting)"
        )
        #expect(!messages.joined().contains("QUERYSECRET"), "no query in STATUS=")
        try await Self.stopWithinASecond(daemon, state: "signing in, backing off", directory: directory)
    }

    /// The server answers 503 with a Retry-After of ten minutes: the wait is minutes long
    /// (the policy clamps it to 240 s) and SIGTERM still ends it at once.
    @Test func sigtermEndsASignInBackoffOfMinutes() async throws {
        let server = try StubServer { _ in StubServer.answer("503 Service Unavailable", headers: ["Retry-After: 600"]) }
        defer { server.shutdown() }
        let (directory, config) = try RunConfiguration.write(
            username: "alice@contoso.com",
            password: "a password",
            discoverURL: server.url + "/autodiscover/autodiscoverservice.svc/root"
        )
        let (daemon, socket) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        let waiting = try await socket.waitFor { $0.contains("next try in") }
        #expect(Self.secondsToNextTry(waiting).map { $0 >= 180 } == true, "a Retry-After of minutes: \(waiting)")
        #expect(
            waiting.contains(
                "STATUS=signing in to \(server.url)/autodiscover/autodiscoverservice.svc/root: HTTP 503; next try in "
            ),
            "\(waiting)"
        )
        try await Self.stopWithinASecond(daemon, state: "signing in, 503 backoff of 4 min", directory: directory)
    }

    /// The server accepts the connection and never answers: the request is in flight.
    @Test func sigtermEndsASignInRequestThatNeverGetsAnAnswer() async throws {
        let silent = try StubServer()
        defer { silent.shutdown() }
        let (directory, config) = try RunConfiguration.write(
            username: "alice@contoso.com",
            password: "a password",
            discoverURL: silent.url + "/autodiscover/autodiscoverservice.svc/root"
        )
        let (daemon, _) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        try await silent.waitForRequests(1)
        try await Self.stopWithinASecond(daemon, state: "signing in, request in flight", directory: directory)
    }

    /// The token request goes to a server that never answers.
    @Test func sigtermEndsATokenGrantInFlight() async throws {
        let silent = try StubServer()
        let server = try StubServer.signIn(tokenURL: silent.url + "/token")
        defer {
            silent.shutdown()
            server.shutdown()
        }
        let (directory, config) = try RunConfiguration.write(
            username: "alice@contoso.com",
            password: "a password",
            discoverURL: server.url + "/autodiscover/autodiscoverservice.svc/root"
        )
        let (daemon, _) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        try await silent.waitForRequests(1)
        #expect(silent.requests.first?.hasPrefix("POST /token") == true, "\(silent.requests)")
        try await Self.stopWithinASecond(daemon, state: "token grant in flight", directory: directory)
    }

    /// The token endpoint refuses connections: the grant's own retry loop waits.
    @Test func sigtermEndsATokenGrantBackoff() async throws {
        let refusing = try StubServer.RefusingPort()
        let port = refusing.port
        defer { withExtendedLifetime(refusing) {} }
        let server = try StubServer.signIn(tokenURL: "http://127.0.0.1:\(port)/token")
        defer { server.shutdown() }
        let (directory, config) = try RunConfiguration.write(
            username: "alice@contoso.com",
            password: "a password",
            discoverURL: server.url + "/autodiscover/autodiscoverservice.svc/root"
        )
        let (daemon, socket) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        let waiting = try await socket.waitFor { $0.contains("/token: connection refused or unreachable; next try in") }
        #expect(waiting.contains("STATUS=signing in to http://127.0.0.1:\(port)/token"), "\(waiting)")
        try await Self.stopWithinASecond(daemon, state: "token grant, backing off", directory: directory)
    }

    // MARK: the event channel

    /// A parked poll (the channel is up and idle).
    @Test func sigtermEndsAParkedPoll() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let (daemon, _) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        try await Self.stopWithinASecond(daemon, state: "parked poll", directory: directory)
        await simulator.shutdown()
    }

    /// The events GET gets 503 with Retry-After: ten minutes: STATUS= says so, SIGTERM ends the wait.
    @Test func channelBackoffIsInStatusAndSigtermEndsIt() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let (daemon, socket) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        _ = try await socket.waitFor { $0.contains("STATUS=polling") }
        await simulator.inject(.eventsStatus(503, retryAfterSeconds: 600))
        await simulator.play(InvitationScript())
        let waiting = try await socket.waitFor { $0.contains("next try in") }
        #expect(
            waiting.contains(
                "STATUS=polling \(simulator.baseURL)/ucwa/oauth/v1/applications/101/events failed: HTTP 503; next try in "
            ),
            "\(waiting)"
        )
        #expect(Self.secondsToNextTry(waiting).map { $0 >= 180 } == true, "a Retry-After of minutes: \(waiting)")
        try await Self.stopWithinASecond(daemon, state: "channel backing off (4 min)", directory: directory)
        await simulator.shutdown()
    }

    /// A batch whose invitation GET hangs: the stop waits for the batch a little, then gives it
    /// up uncheckpointed; the restart gets the same events again (at-least-once, as after a crash).
    @Test func sigtermWhileResolvingGivesTheBatchUpAndARestartDeliversIt() async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(embedResources: false))
        let (directory, config) = try simulator.runConfiguration()
        let (daemon, _) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        try await daemon.waitForReady()
        await simulator.inject(.slowInvitation(.seconds(60)))
        let href = await simulator.play(InvitationScript(withAlerting: false))
        try await waitUntil("GET \(href)", poll: .milliseconds(10)) {
            await simulator.stats().requests.contains("GET \(href)")
        }
        try await Self.stopWithinASecond(daemon, state: "resolving (GET in flight)", directory: directory)
        #expect(!daemon.stdout.contains("\"resolution\":\"failed\""), "a cancelled GET is no record: \(daemon.stdout)")
        let restart = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        defer { restart.killIfRunning() }
        try await simulator.waitForAcknowledged(2)
        try await Self.stopWithinASecond(restart, state: "parked poll after the restart", directory: directory)
        let types = restart.stdout.split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))["event_type"]?.stringValue
        }
        #expect(types == ["started", "completed"], "the given-up batch comes again: \(restart.stdout)")
        await simulator.shutdown()
    }

    /// Writing a big batch (issue 15, item 10): 30 000 embedded events in one batch, SIGTERM
    /// once its records are flowing. The stop waits for the batch at most the grace, then gives
    /// it up uncheckpointed: exit 0 within a second, and the restart delivers the whole batch
    /// again, the records written before the stop with the same `record_id`s.
    @Test func sigtermWhileWritingABigBatchEndsWithinASecondAndLosesNothing() async throws {
        var options = SimulatorOptions()
        options.maxEventsPerBatch = 100_000
        let simulator = try await UCWASimulator.start(options: options)
        let (directory, config) = try simulator.runConfiguration()
        for index in 0..<10_000 { await simulator.play(InvitationScript(subject: "Big \(index)")) }
        let (daemon, _) = try Self.start(config, in: directory)
        defer { daemon.killIfRunning() }
        try await waitUntil("100 000 bytes of records", timeout: .seconds(30), poll: .milliseconds(5)) {
            daemon.stdout.utf8.count >= 100_000
        }
        try await Self.stopWithinASecond(daemon, state: "writing a 30 000-event batch", directory: directory)
        func ids(_ output: String) -> [String] {
            output.split(separator: "\n").compactMap { line in
                guard let record = try? JSONValue.parse(String(line)),
                    record["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true
                else { return nil }
                return record["record_id"]?.stringValue
            }
        }
        let before = ids(daemon.stdout)
        print("stop | writing a big batch | \(before.count) of 30000 records written before the stop")
        let restart = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        defer { restart.killIfRunning() }
        try await simulator.waitForAcknowledged(30_000)
        try await Self.stopWithinASecond(restart, state: "parked poll after the big batch", directory: directory)
        let after = ids(restart.stdout)
        if before.count < 30_000 {
            #expect(after.count == 30_000, "the given-up batch comes again whole")
            #expect(Set(before).isSubset(of: Set(after)), "with the same record_ids")
        } else {
            #expect(after.isEmpty, "a batch finished within the grace is not repeated")
        }
        await simulator.shutdown()
    }

    // MARK: STATUS= while idle

    /// After a batch the channel idles on a parked poll; the age of the last batch in STATUS=
    /// grows with the watchdog's ticks.
    @Test func statusAgeOfTheLastBatchGrowsWhileIdle() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let (daemon, socket) = try Self.start(config, in: directory, watchdogUSec: 1_000_000)
        defer { daemon.killIfRunning() }
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        let aged = try await socket.waitFor { $0.contains("records written; last batch 2 s ago") }
        #expect(aged.hasPrefix("WATCHDOG=1\nSTATUS=polling; 4 records written; last batch 2 s ago (at "), "\(aged)")
        #expect(aged.hasSuffix(" UTC)"), "\(aged)")
        try await Self.stopWithinASecond(daemon, state: "parked poll (watchdog 1 s)", directory: directory)
        await simulator.shutdown()
    }
}

extension NotifyTests.NotifySocket {
    /// Waits for a datagram matching `predicate`; returns it. Every datagram is kept in `received`.
    func waitFor(timeout: Duration = .seconds(20), _ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let match = received.first(where: predicate) { return match }
            guard ContinuousClock.now < deadline else {
                Issue.record("no notification matched in \(timeout); got \(received.joined(separator: " | "))")
                throw POSIXError(.ETIMEDOUT)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
