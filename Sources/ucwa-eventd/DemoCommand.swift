import ArgumentParser
import Eventd
import Logging
import SystemCalls
import UCWA

/// `ucwa-eventd demo`: the simulator on loopback and the daemon against it, records on stdout,
/// a one-line summary on stderr at the end.
///
/// The simulator is a second program, `ucwa-sim` (SwiftNIO), started as `ucwa-sim --demo`:
/// linking it into this binary made the daemon several times larger and cost every instance
/// memory for a server it never runs in production (Benchmarks/README.md has the figures).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the UCWA simulator (ucwa-sim) and the daemon against it, printing records.",
        discussion: """
            The simulator is the separate program ucwa-sim, looked for beside this executable, \
            then in $PATH. Exit status 69 when it cannot be found or started.
            """
    )

    /// EX_UNAVAILABLE: the simulator program is missing or did not start.
    static let simulatorUnavailable: Int32 = 69

    @Option(help: "How many participant invitations to play.")
    var invitations = 24

    @Flag(
        help:
            "Inject faults along the way (dropped connection, 503, resync, revoked token, 1-byte chunks, lost application)."
    )
    var faults = false

    func validate() throws {
        guard (1...10_000).contains(invitations) else { throw ValidationError("--invitations must be 1...10000") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let environment = processEnvironment()
        let logger = makeLogger(level: SharedLogLevel(.warning), environment: environment)
        let path: String
        do {
            path = try SimulatorProcess.locate(environment: environment)
        } catch {
            Diagnostics.print("demo: \(error)")
            throw ExitCode(Self.simulatorUnavailable)
        }
        let stateDirectory: String
        do {
            stateDirectory = try PathCalls.makeTemporaryDirectory("/tmp/ucwa-eventd-demo-XXXXXX")
        } catch {
            Diagnostics.print("demo: cannot create a state directory /tmp/ucwa-eventd-demo-XXXXXX: \(error.errno)")
            throw ExitCode(ExitStatus.temporaryFailure)
        }
        // A password made up for this run, handed to the simulator in a 0600 file that is gone
        // once the simulator has read it (it prints DiscoverURL= after reading it).
        let password = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined(separator: "-")
        let passwordFile = stateDirectory + "/simulator.password"
        let simulator: SimulatorProcess
        let discoverURL: String
        let username: String
        do {
            try SimulatorProcess.writeSecret(password, to: passwordFile)
            defer { try? PathCalls.remove(passwordFile) }
            simulator = try SimulatorProcess(
                path: path,
                arguments: [
                    "--port", "0", "--password-file", passwordFile, "--demo", "--invitations", "\(invitations)",
                ] + (faults ? ["--faults"] : [])
            )
            discoverURL = try await simulator.value(of: "DiscoverURL", timeout: .seconds(10))
            username = try await simulator.value(of: "Username", timeout: .seconds(1))
        } catch {
            Diagnostics.print("demo: \(error)")
            try? PathCalls.removeDirectory(stateDirectory)
            throw ExitCode(Self.simulatorUnavailable)
        }
        defer { simulator.stop() }

        var configuration = Configuration()
        configuration.discoverURL = discoverURL
        configuration.username = username
        configuration.account = "demo"
        configuration.stateDirectory = stateDirectory
        let stop = StopSignal()
        let signals = Signals(stop: { stop.request() }, reload: {})
        defer { signals.cancel() }
        var daemon = Daemon(
            configuration: configuration,
            password: password,
            environment: [:],
            logger: logger,
            stop: stop
        )
        daemon.timeoutOverride = 2
        daemon.grace = .seconds(2)
        daemon.policy = RetryPolicy(
            initialDelay: .milliseconds(100),
            maximumDelay: .seconds(1),
            maximumRetryAfter: .seconds(2)
        )
        let runner = daemon
        let task = Task { await runner.run(sink: .stdout(descriptor: 1)) }

        // The scenario's own deadline is a minute of waiting for acknowledgements; this one
        // covers playing as well. A stop signal (Ctrl-C) ends the wait too.
        let done = try? await simulator.line(
            startingWith: "demo-done ",
            timeout: .seconds(Int64(90 + invitations / 10)),
            until: { stop.isRequested }
        )
        // SIGINT or SIGTERM ended the wait: stop as `run` does, with the daemon's status.
        let interrupted = stop.isRequested
        stop.request()
        let code = await task.value
        simulator.stop()
        let elapsed = clock.now - started
        let tenths =
            Int(elapsed.components.seconds) * 10 + Int(elapsed.components.attoseconds / 100_000_000_000_000_000)
        let fields = SimulatorProcess.fields(done ?? "")
        Diagnostics.print(
            "demo: \(invitations) invitations, \(fields["events"] ?? "?") invitation events, \(runner.stats.records) records, "
                + "\(fields["applications"] ?? "?") application(s), \(fields["tokens"] ?? "?") token(s), exit \(code), "
                + "\(tenths / 10).\(tenths % 10) s; state in \(stateDirectory)"
        )
        if done == nil && code == 0 && !interrupted {
            Diagnostics.print("demo: \(simulator.path) did not report the end of the scenario (no demo-done line)")
            throw ExitCode(ExitStatus.temporaryFailure)
        }
        if code != 0 { throw ExitCode(code) }
    }
}
