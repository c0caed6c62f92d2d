import Foundation
import Testing
import UCWA

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
        let path = ReplayCommandTests.repository.appendingPathComponent("systemd/\(unit)").path
        let (status, output) = try await run(["/usr/bin/systemd-analyze", "security", "--offline=true", "--no-pager", path])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(score <= 1.1, "\(line)")
    }

    @Test func verifyIsClean() async throws {
        // verify checks that ExecStart exists: point it at the binary under test.
        let directory = TestPaths.temporaryDirectory()
        for unit in Self.units {
            let text = try String(contentsOf: ReplayCommandTests.repository.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/bin/ucwa-eventd", with: ReplayCommandTests.binary.path)
                .write(toFile: directory + "/" + unit, atomically: true, encoding: .utf8)
        }
        let (status, output) = try await run(["/usr/bin/systemd-analyze", "verify", "--man=no"] + Self.units.map { directory + "/" + $0 })
        #expect(status == 0)
        #expect(output.isEmpty, "\(output)")
    }

    @Test func unitsKeepTheContract() throws {
        for unit in Self.units {
            let text = try String(contentsOf: ReplayCommandTests.repository.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            for line in ["Type=notify", "RestartPreventExitStatus=64 77 78", "WatchdogSec=", "LoadCredential=password:", "StateDirectory=ucwa-eventd", "ExecReload=/bin/kill -HUP $MAINPID"] {
                #expect(text.contains(line), "\(unit) lacks \(line)")
            }
            #expect(!text.contains("Password="), "no secret in a unit")
        }
    }

    @Test func theCatalogExplainsEveryRecordKind() throws {
        let text = try String(contentsOf: ReplayCommandTests.repository.appendingPathComponent("systemd/ucwa-eventd.catalog"), encoding: .utf8)
        for name in Record.EventName.allCases {
            #expect(text.contains("-- \(name.messageID)\nSubject: "), "\(name.rawValue)")
        }
    }
}
