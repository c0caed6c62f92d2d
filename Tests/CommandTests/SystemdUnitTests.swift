import Foundation
import Testing
import UCWATestSupport

@testable import UCWA

/// The unit files pass `systemd-analyze verify` and score at most 1.1 in
/// `systemd-analyze security --offline=true` (systemd-localed, the best unit shipped with
/// systemd 252, scores 1.2); the catalog explains every record kind.
@Suite(.serialized) struct SystemdUnitTests {
    static let units = ["ucwa-eventd.service", "ucwa-eventd@.service"]

    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let child = try ChildProcess(arguments, directory: TestPaths.temporaryDirectory())
        let status = try await child.wait()
        return (status, child.stdout + child.stderr)
    }

    @Test(arguments: units)
    func exposureIsAtMost1Point1(unit: String) async throws {
        let path = TestPaths.repository.appendingPathComponent("systemd/\(unit)").path
        let (status, output) = try await run([
            "/usr/bin/systemd-analyze", "security", "--offline=true", "--no-pager", path,
        ])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(score <= 1.1, "\(line)")
    }

    @Test func verifyIsClean() async throws {
        // verify checks that ExecStart exists: point it at the binary under test.
        let directory = TestPaths.temporaryDirectory()
        for unit in Self.units {
            let text = try String(
                contentsOf: TestPaths.repository.appendingPathComponent("systemd/\(unit)"),
                encoding: .utf8
            )
            try text.replacingOccurrences(of: "/usr/bin/ucwa-eventd", with: TestPaths.daemon.path)
                .write(toFile: directory + "/" + unit, atomically: true, encoding: .utf8)
        }
        let (status, output) = try await run(
            ["/usr/bin/systemd-analyze", "verify", "--man=no"] + Self.units.map { directory + "/" + $0 }
        )
        #expect(status == 0)
        #expect(output.isEmpty, "\(output)")
    }

    @Test func unitsKeepTheContract() throws {
        for unit in Self.units {
            let text = try String(
                contentsOf: TestPaths.repository.appendingPathComponent("systemd/\(unit)"),
                encoding: .utf8
            )
            for line in [
                "Type=notify", "RestartPreventExitStatus=64 76 77 78", "WatchdogSec=", "LoadCredential=password:",
                "StateDirectory=ucwa-eventd", "ExecReload=/bin/kill -HUP $MAINPID",
            ] {
                #expect(text.contains(line), "\(unit) lacks \(line)")
            }
            #expect(!text.contains("Password="), "no secret in a unit")
        }
    }

    /// The README's exit-code table and the units agree: a code whose row says "restarted: no"
    /// is in `RestartPreventExitStatus=` of both units, one that says "yes" is not; 70 (an
    /// internal inconsistency) and 76 (the server refuses this client) are in the table.
    @Test func theReadmesExitCodeTableMatchesTheUnits() throws {
        let readme = try String(contentsOf: TestPaths.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "### Exit codes").dropFirst().first)
        var restarted: [String: Bool] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            // 0 is a clean stop, which `Restart=on-failure` never restarts.
            guard cells.count >= 4, let code = Int(cells[0]), code != 0 else { continue }
            restarted[String(code)] = cells[cells.count - 1].hasPrefix("yes")
        }
        #expect(restarted["70"] == true, "70 is in the table and restarted: \(restarted)")
        #expect(restarted["76"] == false, "76 is in the table and not restarted: \(restarted)")
        for unit in Self.units {
            let prevented = Set(
                Self.values("RestartPreventExitStatus", in: try Self.text(unit)).flatMap {
                    $0.split(separator: " ").map(String.init)
                }
            )
            for (code, isRestarted) in restarted {
                #expect(
                    prevented.contains(code) != isRestarted,
                    "\(unit): exit \(code) is \(isRestarted ? "" : "not ")restarted per the README"
                )
            }
        }
    }

    /// The unit's text.
    static func text(_ unit: String) throws -> String {
        try String(contentsOf: TestPaths.repository.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
    }

    /// The values of `key=` in the unit, in order (comments skipped).
    static func values(_ key: String, in text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            line.hasPrefix(key + "=") ? String(line.dropFirst(key.count + 1)) : nil
        }
    }

    /// `ucwa-eventd.service` and any number of `ucwa-eventd@NAME.service` run on one host: for
    /// each kind of directory systemd makes for a unit, no unit's path equals or contains
    /// another's (systemd refuses the second with exit 238 otherwise).
    @Test func noTwoUnitsShareOrNestADirectory() throws {
        let template = try Self.text("ucwa-eventd@.service")
        let instances =
            [("ucwa-eventd.service", try Self.text("ucwa-eventd.service"))]
            + ["alice", "bob", "a.b", "alice-2"].map {
                ("ucwa-eventd@\($0).service", template.replacingOccurrences(of: "%i", with: $0))
            }
        let kinds = ["StateDirectory", "RuntimeDirectory", "CacheDirectory", "LogsDirectory", "ConfigurationDirectory"]
        var claimed = 0
        for kind in kinds {
            let paths = instances.flatMap { unit, text in
                Self.values(kind, in: text).flatMap { $0.split(separator: " ") }.map { (unit, String($0)) }
            }
            claimed += paths.count
            for (index, (unit, path)) in paths.enumerated() {
                for (otherUnit, other) in paths[(index + 1)...] where otherUnit != unit {
                    #expect(path != other, "\(unit) and \(otherUnit) share \(kind)=\(path)")
                    #expect(
                        !other.hasPrefix(path + "/") && !path.hasPrefix(other + "/"),
                        "\(kind): \(unit) has \(path), \(otherUnit) has \(other): one contains the other"
                    )
                }
            }
        }
        #expect(claimed >= instances.count, "every unit has a state directory")
    }

    /// No restart loop without end: the exit codes a restart cannot fix stop the restarts,
    /// and a crash loop trips the start limit.
    @Test(arguments: units)
    func restartsEndWhereARestartCannotHelp(unit: String) throws {
        let text = try Self.text(unit)
        let prevented = Set(
            Self.values("RestartPreventExitStatus", in: text).flatMap { $0.split(separator: " ").map(String.init) }
        )
        // Ours (64 usage, 76 the server refuses this client, 77 credentials, 78 configuration),
        // the loader's 127, and systemd's set-up failures that need an operator
        // (systemd.exec(5), "Process Exit Codes").
        for code in [
            "64", "76", "77", "78", "127", "200", "203", "216", "217", "218", "226", "227", "228", "232", "233", "238",
            "241", "243",
        ] {
            #expect(prevented.contains(code), "\(unit): a restart cannot fix exit \(code)")
        }
        #expect(!prevented.contains("75"), "\(unit): 75 (a temporary failure) is restarted")
        #expect(!prevented.contains("70"), "\(unit): 70 (an internal inconsistency) is restarted from the checkpoint")
        let unitSection = text.components(separatedBy: "[Service]")[0]
        let interval = try #require(
            Self.values("StartLimitIntervalSec", in: unitSection).last,
            "\(unit): StartLimitIntervalSec= in [Unit]"
        )
        let burst = try #require(
            Self.values("StartLimitBurst", in: unitSection).last.flatMap { Int($0) },
            "\(unit): StartLimitBurst= in [Unit]"
        )
        #expect(interval != "0" && interval != "infinity" && burst > 0 && burst <= 10, "\(unit): \(interval), \(burst)")
        #expect(Self.values("Restart", in: text) == ["on-failure"], "\(unit)")
    }

    @Test func theCatalogExplainsEveryRecordKind() throws {
        let text = try String(
            contentsOf: TestPaths.repository.appendingPathComponent("systemd/ucwa-eventd.catalog"),
            encoding: .utf8
        )
        for name in Record.EventName.allCases {
            #expect(text.contains("-- \(name.messageID)\nSubject: "), "\(name.rawValue)")
        }
    }
}
