import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// The package under a real systemd: a container booted from this machine's root with the Swift
/// toolchain hidden, the `.deb` from `make deb` installed with apt, and the README's operator
/// steps run literally (the shell block under "## Install"), against the simulator on loopback.
///
/// `make test` builds the package first and passes it in `$UCWA_DEB`; without a package, or on
/// a machine that cannot boot a container, the test is skipped and says why.
/// Serialized: two containers booted at once from the same root did not both finish booting
/// here (the second stayed "starting").
@Suite(.serialized) struct SystemdContainerTests {
    /// The package to install: `$UCWA_DEB`, else the newest `dist/ucwa-eventd_*_amd64.deb`.
    static var package: String? {
        if let path = ProcessInfo.processInfo.environment["UCWA_DEB"], !path.isEmpty { return path }
        let dist = TestPaths.repository.appendingPathComponent("dist").path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dist)) ?? [])
            .filter { $0.hasPrefix("ucwa-eventd_") && $0.hasSuffix("_amd64.deb") }.sorted()
        return names.last.map { dist + "/" + $0 }
    }

    static var skipReason: String? {
        if let reason = BootedContainer.unavailableReason() { return reason }
        if package == nil { return "no package in dist/ and $UCWA_DEB unset: run `make deb` (make test does)" }
        return nil
    }

    /// The README's install block, with the example values replaced by the test's.
    static func operatorSteps(
        debPath: String,
        discoverURL: String,
        username: String,
        password: String
    ) throws -> [String] {
        let readme = try String(contentsOf: TestPaths.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let install = try #require(readme.range(of: "\n## Install"), "README has no '## Install' section")
        let rest = readme[install.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"), "README's Install section has no sh block")
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let lines = rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
        return lines.map { line in
            // Comments stay in (bash ignores them); the example values become the test's.
            line.replacingOccurrences(of: "./dist/ucwa-eventd_*_amd64.deb", with: debPath)
                .replacingOccurrences(of: "https://lyncdiscover.contoso.com", with: discoverURL)
                .replacingOccurrences(of: "alice@contoso.com", with: username)
                .replacingOccurrences(of: "'the password'", with: "'\(password)'")
        }
    }

    /// Journal entries of the records the unit wrote, as JSON objects.
    static func records(_ container: BootedContainer, unit: String) async throws -> [JSONValue] {
        let output = try await container.mustRun("journalctl -u \(unit) -o json --no-pager UCWA_SCHEMA_VERSION=1")
        return try output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    static func property(_ container: BootedContainer, _ unit: String, _ name: String) async throws -> String {
        try await container.mustRun("systemctl show -P \(name) \(unit)").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `command` inside (ended after 60 s) and returns how long it took.
    static func timed(
        _ container: BootedContainer,
        _ command: String
    ) async throws -> (status: Int32, output: String, seconds: Double) {
        let start = ContinuousClock.now
        let (status, output) = try await container.run("timeout 60 /bin/sh -c " + shellQuote(command))
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // The figures for the notes (each is also asserted by its caller).
        print(
            "container \(container.name): `\(command.prefix(60))` took \(String(format: "%.2f", seconds)) s, exit \(status)"
        )
        return (status, output, seconds)
    }

    @Test(.disabled(if: skipReason != nil, Comment(rawValue: skipReason ?? "")), .timeLimit(.minutes(5)))
    func theOperatorsStepsUnderARealSystemd() async throws {
        let debPath = try #require(Self.package)
        let simulator = try await UCWASimulator.start()
        let container = try await BootedContainer(
            name: "ucwa-steps",
            binds: [(URL(fileURLWithPath: debPath).deletingLastPathComponent().path, "/srv/package")]
        )
        do {
            try await operatorScenario(container, simulator, debPath: debPath)
        } catch {
            await container.shutdown()
            await simulator.shutdown()
            throw error
        }
        await container.shutdown()
        await simulator.shutdown()
    }

    func operatorScenario(_ container: BootedContainer, _ simulator: UCWASimulator, debPath: String) async throws {
        let unit = "ucwa-eventd@alice.service"
        let options = SimulatorOptions()

        // No toolchain inside: the package must bring or avoid the Swift runtime.
        #expect(try await container.run("test -e /opt/swift/usr/bin/swift").status != 0, "the toolchain is hidden")

        // The README's steps, literally (bash: the block uses a here-string).
        let steps = try Self.operatorSteps(
            debPath: "/srv/package/" + URL(fileURLWithPath: debPath).lastPathComponent,
            discoverURL: simulator.discoverURL,
            username: options.username,
            password: options.password
        )
        let install = try await Self.timed(
            container,
            "cd /root && DEBIAN_FRONTEND=noninteractive bash -euxc " + shellQuote(steps.joined(separator: "\n"))
        )
        #expect(install.status == 0, "operator steps: \(install.output)")
        try #require(install.status == 0)

        // The package's files: binary runnable without Swift, man pages, catalog, completions.
        #expect(try await container.run("ucwa-eventd --version").status == 0)
        for path in [
            "/usr/bin/ucwa-eventd", "/usr/share/man/man8/ucwa-eventd.8.gz", "/usr/share/man/man5/ucwa-eventd.conf.5.gz",
            "/usr/lib/systemd/catalog/ucwa-eventd.catalog", "/usr/share/bash-completion/completions/ucwa-eventd",
        ] {
            #expect(try await container.run("test -e \(path)").status == 0, "\(path) installed")
        }
        #expect(
            try await container.mustRun("journalctl --list-catalog --no-pager").contains("ucwa"),
            "catalog registered"
        )

        // Started: records arrive in the journal with their fields.
        #expect(try await Self.property(container, unit, "ActiveState") == "active")
        await simulator.play(InvitationScript())
        await simulator.play(InvitationScript(subject: "second", outcome: .declined))
        try await simulator.waitForAcknowledged(6, timeout: .seconds(30))
        try await waitUntil("7 records in the journal", timeout: .seconds(30), poll: .milliseconds(100)) {
            try await Self.records(container, unit: unit).count >= 7
        }
        let first = try await Self.records(container, unit: unit)
        let names = first.compactMap { $0["UCWA_EVENT_NAME"]?.stringValue }
        #expect(names.filter { $0 == "ucwa.channel.opened" }.count == 1, "\(names)")
        #expect(names.filter { $0 == "ucwa.invitation.completed" }.count == 2, "\(names)")
        for entry in first {
            for field in ["UCWA_RECORD_ID", "UCWA_SEQUENCE", "UCWA_ACCOUNT", "MESSAGE_ID", "PRIORITY", "MESSAGE"] {
                #expect(entry[field] != nil, "\(field) in \(entry)")
            }
            #expect(entry["UCWA_ACCOUNT"]?.stringValue == "alice")
            #expect(entry["SYSLOG_IDENTIFIER"]?.stringValue == "ucwa-eventd")
        }
        #expect(first.contains { $0["UCWA_INVITATION_HREF"]?.stringValue?.hasPrefix("http://127.0.0.1") == true })
        let catalog = try await container.mustRun(
            "journalctl -x -u \(unit) --no-pager MESSAGE_ID=\(first[0]["MESSAGE_ID"]?.stringValue ?? "")"
        )
        // systemd 252 marks catalog lines with "░░ " (older versions with "-- ").
        #expect(
            catalog.contains("░░ Subject: ") || catalog.contains("-- Subject: "),
            "journalctl -x shows the catalog text: \(catalog)"
        )

        // STATUS= stays true while idle: the age of the last batch grows (refreshed with the
        // watchdog's ping, every 30 s under WatchdogSec=60s).
        try await waitUntil(
            "STATUS= to show an idle age of 30 s or more",
            timeout: .seconds(60),
            poll: .milliseconds(100)
        ) {
            let text = try await Self.property(container, unit, "StatusText")
            guard text.hasPrefix("polling; "), let ago = text.range(of: "last batch ") else { return false }
            return Int(text[ago.upperBound...].prefix { $0.isNumber }).map { $0 >= 30 } ?? false
        }

        // Reload keeps the PID.
        let pid = try await Self.property(container, unit, "MainPID")
        try await container.mustRun("systemctl reload \(unit)")
        #expect(try await Self.property(container, unit, "MainPID") == pid)
        #expect(try await Self.property(container, unit, "ActiveState") == "active")

        // Stop: under 3 s, exit 0.
        let stop = try await Self.timed(container, "systemctl stop \(unit)")
        #expect(stop.status == 0 && stop.seconds < 3, "stop took \(stop.seconds) s: \(stop.output)")
        #expect(try await Self.property(container, unit, "Result") == "success")
        #expect(try await Self.property(container, unit, "ExecMainStatus") == "0")

        // Events while stopped are delivered after a start, nothing lost or repeated.
        await simulator.play(InvitationScript(subject: "while stopped", outcome: .cancelled))
        let start = try await Self.timed(container, "systemctl start \(unit)")
        #expect(start.status == 0 && start.seconds < 10, "start took \(start.seconds) s: \(start.output)")
        try await simulator.waitForAcknowledged(9, timeout: .seconds(30))
        try await waitUntil("the third invitation's records", timeout: .seconds(30), poll: .milliseconds(100)) {
            try await Self.records(container, unit: unit).filter {
                $0["UCWA_EVENT_NAME"]?.stringValue == "ucwa.invitation.completed"
            }.count >= 3
        }
        let all = try await Self.records(container, unit: unit).filter {
            $0["UCWA_EVENT_NAME"]?.stringValue?.hasPrefix("ucwa.invitation.") == true
        }
        let ids = all.compactMap { $0["UCWA_RECORD_ID"]?.stringValue }
        #expect(all.count == 9 && Set(ids).count == 9, "9 invitation records, each once: \(ids)")
        let sequences = all.compactMap { $0["UCWA_SEQUENCE"]?.stringValue }
        #expect(Set(sequences).count == sequences.count, "no sequence number twice: \(sequences)")

        // No seccomp denial, no SIGSYS, in the whole boot.
        let journal = try await container.mustRun("journalctl -b --no-pager -o short -u 'ucwa-eventd*'")
        for needle in ["Failed to set thread priority", "status=31/SYS", "Operation not permitted"] {
            let lines = journal.split(separator: "\n").filter { $0.contains(needle) }
            #expect(lines.isEmpty, "a denied call or SIGSYS in the boot's journal: \(lines.joined(separator: "\n"))")
        }

        // A wrong password: exit 77 and no restart.
        try await container.mustRun("printf 'wrong\\n' > /etc/ucwa-eventd/alice.password")
        try await container.run("systemctl restart \(unit)")
        try await waitUntil("the unit to fail", timeout: .seconds(30), poll: .milliseconds(100)) {
            try await Self.property(container, unit, "ActiveState") == "failed"
        }
        #expect(try await Self.property(container, unit, "ExecMainStatus") == "77")
        try await Task.sleep(for: .seconds(6))  // RestartSec=5s: a restart would have happened by now
        #expect(try await Self.property(container, unit, "NRestarts") == "0")
        #expect(try await Self.property(container, unit, "ActiveState") == "failed")
    }

    @Test(.disabled(if: skipReason != nil, Comment(rawValue: skipReason ?? "")), .timeLimit(.minutes(5)))
    func outagesAndNeighboursUnderARealSystemd() async throws {
        let debPath = try #require(Self.package)
        let simulator = try await UCWASimulator.start()
        let container = try await BootedContainer(
            name: "ucwa-outage",
            binds: [(URL(fileURLWithPath: debPath).deletingLastPathComponent().path, "/srv/package")]
        )
        do {
            try await outageScenario(container, simulator, debPath: debPath)
        } catch {
            await container.shutdown()
            await simulator.shutdown()
            throw error
        }
        await container.shutdown()
        await simulator.shutdown()
    }

    /// Writes `/etc/ucwa-eventd/NAME.conf` from the example and its password file.
    static func configure(
        _ container: BootedContainer,
        name: String,
        discoverURL: String,
        password: String
    ) async throws {
        let options = SimulatorOptions()
        try await container.mustRun(
            """
            install -m 0644 /etc/ucwa-eventd/ucwa-eventd.conf.example /etc/ucwa-eventd/\(name).conf && \
            sed -i -e 's|^DiscoverURL=.*|DiscoverURL=\(discoverURL)|' -e 's|^Username=.*|Username=\(options.username)|' /etc/ucwa-eventd/\(name).conf && \
            printf '%s\\n' \(shellQuote(password)) > /etc/ucwa-eventd/\(name).password && chmod 0600 /etc/ucwa-eventd/\(name).password
            """
        )
    }

    func outageScenario(_ container: BootedContainer, _ simulator: UCWASimulator, debPath: String) async throws {
        let package = "/srv/package/" + URL(fileURLWithPath: debPath).lastPathComponent
        // This machine's image forbids maintainer scripts to start or stop services (a
        // policy-rc.d that answers 101, as image builds do); a real host has none.
        try await container.mustRun("rm -f /usr/sbin/policy-rc.d")
        try await container.mustRun(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q \(package)",
            timeout: .seconds(120)
        )
        let password = SimulatorOptions().password

        // The server unreachable (nothing listens on port 9): start returns at once, STATUS says
        // what the daemon waits for, stop is quick and clean.
        try await Self.configure(
            container,
            name: "bob",
            discoverURL: "http://127.0.0.1:9/autodiscover/autodiscoverservice.svc/root",
            password: password
        )
        let bob = "ucwa-eventd@bob.service"
        let start = try await Self.timed(container, "systemctl start \(bob)")
        #expect(
            start.status == 0 && start.seconds < 10,
            "start during an outage took \(start.seconds) s: \(start.output)"
        )
        #expect(try await Self.property(container, bob, "ActiveState") == "active")
        try await waitUntil("STATUS= naming the next try", timeout: .seconds(15), poll: .milliseconds(100)) {
            try await Self.property(container, bob, "StatusText").contains("next try")
        }
        let status = try await Self.property(container, bob, "StatusText")
        #expect(status.hasPrefix("signing in to http://127.0.0.1:9/"), "STATUS= names the server: \(status)")
        let stop = try await Self.timed(container, "systemctl stop \(bob)")
        #expect(stop.status == 0 && stop.seconds < 3, "stop during an outage took \(stop.seconds) s: \(stop.output)")
        #expect(try await Self.property(container, bob, "Result") == "success")
        #expect(try await Self.property(container, bob, "ExecMainStatus") == "0")

        // The plain unit and an instance side by side, each with its own state, with the seccomp
        // filter killing instead of answering EPERM: a denied call would end them by SIGSYS.
        try await Self.configure(container, name: "ucwa-eventd", discoverURL: simulator.discoverURL, password: password)
        try await Self.configure(container, name: "carol", discoverURL: simulator.discoverURL, password: password)
        for folder in ["ucwa-eventd.service.d", "ucwa-eventd@.service.d"] {
            try await container.mustRun(
                "mkdir -p /etc/systemd/system/\(folder) && printf '[Service]\\nSystemCallErrorNumber=\\n' > /etc/systemd/system/\(folder)/kill-on-denial.conf"
            )
        }
        try await container.mustRun(
            "systemctl daemon-reload && systemctl start ucwa-eventd.service ucwa-eventd@carol.service"
        )
        for unit in ["ucwa-eventd.service", "ucwa-eventd@carol.service"] {
            try await waitUntil("\(unit) to open its channel", timeout: .seconds(30), poll: .milliseconds(100)) {
                try await Self.records(container, unit: unit).contains {
                    $0["UCWA_EVENT_NAME"]?.stringValue == "ucwa.channel.opened"
                }
            }
            #expect(try await Self.property(container, unit, "ActiveState") == "active")
            #expect(try await Self.property(container, unit, "NRestarts") == "0")
        }
        for invitation in 0..<20 { await simulator.play(InvitationScript(subject: "load \(invitation)")) }
        try await simulator.waitForAcknowledged(60, timeout: .seconds(60))
        for unit in ["ucwa-eventd.service", "ucwa-eventd@carol.service"] {
            #expect(
                try await Self.property(container, unit, "ActiveState") == "active",
                "\(unit) survived the load under a killing filter"
            )
            #expect(try await Self.property(container, unit, "NRestarts") == "0")
        }
        for path in [
            "/var/lib/private/ucwa-eventd/ucwa-eventd/checkpoint.json",
            "/var/lib/private/ucwa-eventd/carol/checkpoint.json",
        ] {
            #expect(try await container.run("test -s \(path)").status == 0, "\(path)")
        }
        #expect(try await Self.property(container, "ucwa-eventd.service", "StartLimitBurst") == "5")

        // No password file: systemd cannot load the credential (243) and does not restart.
        try await container.mustRun("rm /etc/ucwa-eventd/bob.password")
        try await container.run("systemctl start ucwa-eventd@bob.service")
        try await waitUntil("bob to fail", timeout: .seconds(30), poll: .milliseconds(100)) {
            try await Self.property(container, bob, "ActiveState") == "failed"
        }
        #expect(try await Self.property(container, bob, "ExecMainStatus") == "243")
        try await Task.sleep(for: .seconds(6))
        #expect(try await Self.property(container, bob, "NRestarts") == "0")

        // A configuration error: exit 78 and no restart.
        try await container.mustRun("printf '[Events]\\nTimeoutSeconds=5\\n' >> /etc/ucwa-eventd/carol.conf")
        try await container.run("systemctl restart ucwa-eventd@carol.service")
        try await waitUntil("carol to fail", timeout: .seconds(30), poll: .milliseconds(100)) {
            try await Self.property(container, "ucwa-eventd@carol.service", "ActiveState") == "failed"
        }
        #expect(try await Self.property(container, "ucwa-eventd@carol.service", "ExecMainStatus") == "78")
        #expect(try await Self.property(container, "ucwa-eventd@carol.service", "NRestarts") == "0")

        let journal = try await container.mustRun("journalctl -b --no-pager -o short -u 'ucwa-eventd*'")
        for needle in ["Failed to set thread priority", "status=31/SYS", "Operation not permitted"] {
            let lines = journal.split(separator: "\n").filter { $0.contains(needle) }
            #expect(lines.isEmpty, "a denied call or SIGSYS in the boot's journal: \(lines.joined(separator: "\n"))")
        }

        // An upgrade (the same package again) restarts the running service, which resumes.
        let before = try await Self.property(container, "ucwa-eventd.service", "MainPID")
        try await container.mustRun(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall \(package)",
            timeout: .seconds(120)
        )
        #expect(try await Self.property(container, "ucwa-eventd.service", "ActiveState") == "active")
        #expect(
            try await Self.property(container, "ucwa-eventd.service", "MainPID") != before,
            "restarted by the upgrade"
        )

        // Purge stops the service and removes the package's files, but keeps what the operator
        // made: configurations, password files, state.
        try await container.mustRun(
            "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ucwa-eventd",
            timeout: .seconds(120)
        )
        #expect(
            try await Self.property(container, "ucwa-eventd.service", "ActiveState") != "active",
            "stopped by the removal"
        )
        for gone in [
            "/usr/bin/ucwa-eventd", "/lib/systemd/system/ucwa-eventd@.service",
            "/etc/ucwa-eventd/ucwa-eventd.conf.example",
            "/usr/lib/systemd/catalog/ucwa-eventd.catalog",
        ] {
            #expect(try await container.run("test -e \(gone)").status != 0, "\(gone) removed by purge")
        }
        for kept in [
            "/etc/ucwa-eventd/carol.conf", "/etc/ucwa-eventd/ucwa-eventd.password",
            "/var/lib/private/ucwa-eventd/ucwa-eventd/checkpoint.json",
            "/var/lib/private/ucwa-eventd/carol/checkpoint.json",
        ] {
            #expect(try await container.run("test -e \(kept)").status == 0, "\(kept) kept by purge")
        }
    }
}

/// One argument for `sh -c`, single-quoted.
func shellQuote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
