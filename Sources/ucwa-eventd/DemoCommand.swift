import ArgumentParser
import Eventd
import Logging
import UCWA
import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// `ucwa-eventd demo`: the simulator on loopback and the daemon against it, records on stdout,
/// a one-line summary on stderr at the end.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the built-in UCWA simulator and the daemon against it, printing records.")

    @Option(help: "How many participant invitations to play.")
    var invitations = 24

    @Flag(help: "Inject faults along the way (dropped connection, 503, resync, revoked token, lost application).")
    var faults = false

    func validate() throws {
        guard (1...10_000).contains(invitations) else { throw ValidationError("--invitations must be 1...10000") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let environment = processEnvironment()
        let logger = makeLogger(level: SharedLogLevel(.warning), environment: environment)
        let simulator = try await UCWASimulator.start()
        var template = [UInt8]("/tmp/ucwa-eventd-demo-XXXXXX".utf8) + [0]
        let stateDirectory = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { mkdtemp($0).map { String(cString: $0) } }
        } ?? "/tmp/ucwa-eventd-demo"
        var configuration = Configuration()
        configuration.discoverURL = simulator.discoverURL
        configuration.username = SimulatorOptions().username
        configuration.account = "demo"
        configuration.stateDirectory = stateDirectory
        let stop = StopSignal()
        let signals = Signals(stop: { stop.request() }, reload: {})
        defer { signals.cancel() }
        var daemon = Daemon(configuration: configuration, password: SimulatorOptions().password, environment: [:], logger: logger, stop: stop)
        daemon.timeoutOverride = 2
        daemon.grace = .seconds(2)
        daemon.policy = RetryPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), maximumRetryAfter: .seconds(2))
        let runner = daemon
        let task = Task { await runner.run(sink: .stdout(descriptor: 1)) }

        let outcomes = InvitationOutcome.variety
        let faultPlan: [Int: SimulatorFault] = faults ? [
            3: .dropConnectionMidBody, 6: .eventsStatus(503, retryAfterSeconds: 1), 9: .resync,
            12: .revokeTokens, 15: .oneByteChunks, 18: .applicationGone,
        ] : [:]
        var expected = 0
        for index in 0..<invitations {
            if let fault = faultPlan[index] {
                // A lost application loses its queued events: let the queue drain first.
                if fault == .applicationGone { try await waitForAcknowledged(expected, simulator) }
                await simulator.inject(fault)
            }
            // Every other invitation is link-only: the daemon fetches the resource.
            await simulator.update { $0.embedResources = index % 2 == 0 }
            let script = InvitationScript(
                to: "sip:user\(index)@contoso.com", subject: "Demo invitation \(index + 1)",
                outcome: outcomes[index % outcomes.count], withStarted: index % 7 != 6, withAlerting: index % 3 != 2)
            await simulator.play(script)
            expected += (script.withStarted ? 1 : 0) + (script.withAlerting ? 1 : 0) + 1
            try await Task.sleep(for: .milliseconds(30))
        }
        try await waitForAcknowledged(expected, simulator)
        stop.request()
        let code = await task.value
        let stats = await simulator.stats()
        await simulator.shutdown()
        let elapsed = clock.now - started
        let tenths = Int(elapsed.components.seconds) * 10 + Int(elapsed.components.attoseconds / 100_000_000_000_000_000)
        Diagnostics.print(
            "demo: \(invitations) invitations, \(expected) invitation events, \(runner.stats.records) records, "
                + "\(stats.applicationsCreated) application(s), \(stats.tokensIssued) token(s), exit \(code), "
                + "\(tenths / 10).\(tenths % 10) s; state in \(stateDirectory)")
        if code != 0 { throw ExitCode(code) }
    }

    /// Waits until the simulator has seen `count` events acknowledged (at most a minute).
    func waitForAcknowledged(_ count: Int, _ simulator: UCWASimulator) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while await simulator.stats().eventsAcknowledged < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
