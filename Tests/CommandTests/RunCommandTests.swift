import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// `ucwa-eventd run` and `check-config` as real processes against the simulator.
@Suite struct RunCommandTests {
    @Test func runWritesRecordsAndStopsCleanlyOnSIGTERM() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.stderr)")
        let lines = daemon.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(daemon.stdout)")
        #expect(try lines.allSatisfy { try JSONValue.parse(String($0))["account"]?.stringValue == "alice" })
        // Diagnostics never mix into the record stream.
        #expect(lines.allSatisfy { $0.hasPrefix("{\"timestamp\":") })
        #expect(daemon.stderr.contains("ready"), "\(daemon.stderr)")
        let secret = SimulatorOptions().password
        #expect(!daemon.stdout.contains(secret) && !daemon.stderr.contains(secret))
        #expect(!daemon.stderr.contains("cwt="), "no token in diagnostics")
        await simulator.shutdown()
    }

    @Test func aRestartAfterSIGTERMRepeatsNothing() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let first = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        first.signal(SIGTERM)
        #expect(try await first.wait() == 0)
        await simulator.play(InvitationScript(outcome: .declined))
        let second = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        try await simulator.waitForAcknowledged(6)
        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
        let ids = (first.stdout + second.stdout).split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))["record_id"]?.stringValue
        }
        #expect(ids.count == 8, "two openings and six invitation events")
        #expect(Set(ids).count == ids.count)
        await simulator.shutdown()
    }

    /// `DeleteOnStop=yes`: on SIGTERM the daemon deletes its application (after the channel,
    /// which runs on the HTTP client's thread, has stopped) and forgets it in the checkpoint,
    /// keeping the sequence, and still exits 0.
    @Test func deleteOnStopDeletesTheApplicationAndForgetsIt() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration(extra: "[Application]\nDeleteOnStop=yes\n")
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        let deletes = await simulator.stats().requests.filter { $0.hasPrefix("DELETE ") }
        #expect(deletes == ["DELETE /ucwa/oauth/v1/applications/101"])
        let checkpoint = try JSONValue.parse(
            String(contentsOfFile: directory + "/state/checkpoint.json", encoding: .utf8)
        )
        #expect(checkpoint["application"] == nil)
        #expect(checkpoint["events_url"] == nil)
        #expect(checkpoint["sequence"] == .number("4"), "the opening and three invitation records")
        await simulator.shutdown()
    }

    @Test func thePasswordAndTheTokenAppearNowhere() async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(tokenLifetime: .seconds(2)))
        let (directory, config) = try simulator.runConfiguration(extra: "[Daemon]\nLogLevel=trace\n")
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        // A token refresh and a 401 on the way, so that every token path logs what it logs.
        try await Task.sleep(for: .milliseconds(1800))
        await simulator.inject(.revokeTokens)
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(6)
        let cmdline = (try? String(contentsOfFile: "/proc/\(daemon.pid)/cmdline", encoding: .utf8)) ?? ""
        let environ = (try? String(contentsOfFile: "/proc/\(daemon.pid)/environ", encoding: .utf8)) ?? ""
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        let checkpoint = (try? String(contentsOfFile: directory + "/state/checkpoint.json", encoding: .utf8)) ?? ""
        #expect(await simulator.stats().tokensIssued >= 2)
        let password = SimulatorOptions().password
        for (name, text) in [
            ("stdout", daemon.stdout), ("stderr (trace)", daemon.stderr), ("checkpoint", checkpoint),
            ("argv", cmdline), ("environment", environ),
        ] {
            #expect(!text.contains(password), "the password in \(name)")
            #expect(!text.contains("SIMTOKEN"), "a token in \(name)")
        }
        #expect(!cmdline.isEmpty && !checkpoint.isEmpty && daemon.stderr.contains("token granted"))
        await simulator.shutdown()
    }

    @Test func aRejectedPasswordExits77() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration(password: "wrong password")
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        #expect(try await daemon.wait() == 77)
        #expect(daemon.stderr.contains("rejected the user name or password"))
        #expect(!daemon.stderr.contains("wrong password"))
        await simulator.shutdown()
    }

    @Test func aBadConfigurationExits78NamingFileLineAndKey() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration(extra: "[Events]\nTimeoutSeconds=5\n")
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        #expect(try await daemon.wait() == 78)
        #expect(
            daemon.stderr.contains(
                "ucwa-eventd.conf:10: [Events] TimeoutSeconds: '5' is not a whole number in 180...1800"
            ),
            "\(daemon.stderr)"
        )
        let check = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "check-config", "--config", config],
            directory: directory
        )
        #expect(try await check.wait() == 78)
        await simulator.shutdown()
    }

    @Test func checkConfigPrintsTheEffectiveSettingsWithoutThePassword() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let check = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "check-config", "--config", config],
            environment: ["UCWA_EVENTD_OUTPUT_SINK": "journald"],
            directory: directory
        )
        #expect(try await check.wait() == 0, "\(check.stderr)")
        #expect(check.stdout.contains("[Output]\nSink=journald\n"))
        #expect(check.stdout.contains("Account=alice"))
        #expect(check.stdout.contains("# password: readable (not shown)"))
        #expect(!check.stdout.contains(SimulatorOptions().password))
        await simulator.shutdown()
    }

    /// As an operator checks a unit's configuration from a shell: no credential directory and no
    /// `PasswordFile=`, the password in `NAME.password` beside `NAME.conf` (what the units load).
    @Test func checkConfigFindsThePasswordTheUnitWouldLoad() async throws {
        let directory = TestPaths.temporaryDirectory()
        let config = directory + "/alice.conf"
        try "[Server]\nDiscoverURL=https://lyncdiscover.contoso.com\n[Auth]\nUsername=alice@contoso.com\n".write(
            toFile: config,
            atomically: true,
            encoding: .utf8
        )
        let missing = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "check-config", "--config", config],
            directory: directory
        )
        #expect(try await missing.wait() == 78)
        #expect(
            missing.stderr.contains(directory + "/alice.password"),
            "the error names the file it looked for: \(missing.stderr)"
        )
        try "secret\n".write(toFile: directory + "/alice.password", atomically: true, encoding: .utf8)
        let check = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "check-config", "--config", config],
            directory: directory
        )
        #expect(try await check.wait() == 0, "\(check.stderr)")
        #expect(
            check.stdout.contains(
                "# password: \(directory)/alice.password (the unit's credential \"password\") readable"
            ),
            "\(check.stdout)"
        )
        #expect(!check.stdout.contains("secret"))
    }

    @Test func theShippedExampleConfigurationIsValidSyntax() async throws {
        let path = TestPaths.repository.appendingPathComponent("config/ucwa-eventd.conf").path
        let directory = TestPaths.temporaryDirectory()
        try "pw\n".write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let check = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "check-config", "--config", path],
            environment: ["UCWA_EVENTD_AUTH_PASSWORD_FILE": directory + "/password"],
            directory: directory
        )
        #expect(try await check.wait() == 0, "\(check.stderr)")
    }

    @Test func demoRunsTheSimulatorAndEndsWithASummary() async throws {
        let directory = TestPaths.temporaryDirectory()
        let demo = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "demo", "--invitations", "12", "--faults"],
            directory: directory
        )
        #expect(try await demo.wait(timeout: .seconds(60)) == 0, "\(demo.stderr)")
        let records = demo.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        // At-least-once: when the resync fault lands between a batch's records and its
        // acknowledgement, the server sends that batch again and its records come out twice,
        // with the same record_id (DESIGN.md §1; seen under load, 1 run in 3 beside two busy
        // loops). Every invitation completes once per distinct record_id.
        let completed = records.filter { $0["event_name"]?.stringValue == "ucwa.invitation.completed" }
        #expect(Set(completed.compactMap { $0["record_id"]?.stringValue }).count == 12)
        #expect(Set(completed.compactMap { $0["invitation_href"]?.stringValue }).count == 12)
        #expect(demo.stderr.contains("demo: 12 invitations"), "\(demo.stderr)")
    }
}
