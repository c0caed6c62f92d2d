import Foundation
import SystemPackage
import Testing
import UCWATestSupport

@testable import SystemCalls

/// What the package builds from and what `demo` needs, checked without building the package
/// (`make deb` runs packaging/check-deb.sh on the result): the completion scripts the
/// package generates, the shell scripts' syntax, and demo's error when ucwa-sim is missing.
@Suite struct PackagingTests {
    func run(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> (status: Int32, child: ChildProcess) {
        let child = try ChildProcess(arguments, environment: environment, directory: TestPaths.temporaryDirectory())
        return (try await child.wait(), child)
    }

    static let shells: [(name: String, marker: String, checker: String?)] = [
        ("bash", "complete -o filenames -F _ucwa-eventd ucwa-eventd", "/bin/bash"),
        ("zsh", "#compdef ucwa-eventd", "/usr/bin/zsh"),
        ("fish", "complete -c 'ucwa-eventd'", "/usr/bin/fish"),
    ]

    /// Each script names every subcommand and parses in its shell (when that shell is
    /// installed; bash always is).
    @Test(arguments: shells.map(\.name))
    func theCompletionScriptIsGeneratedAndParses(shell: String) async throws {
        let (marker, checker) = try #require(Self.shells.first { $0.name == shell }.map { ($0.marker, $0.checker) })
        let (status, child) = try await run([TestPaths.binary("ucwa-eventd"), "--generate-completion-script", shell])
        #expect(status == 0, "\(child.stderr)")
        #expect(child.stdout.contains(marker), "\(shell): no \(marker)")
        for command in ["run", "demo", "replay", "check-config"] {
            #expect(child.stdout.contains(command), "\(shell) completion lacks \(command)")
        }
        if let checker, FileManager.default.isExecutableFile(atPath: checker) {
            let (syntax, parse) = try await run([checker, "-n", child.stdoutPath])
            #expect(syntax == 0, "\(checker) -n: \(parse.stderr)")
        } else {
            print("\(shell) is not installed: its completion script was checked for content only")
        }
    }

    @Test(arguments: [
        "packaging/build-deb.sh", "packaging/check-deb.sh", "packaging/try-install.sh",
        "packaging/ucwa-eventd.postinst",
        "packaging/ucwa-eventd.prerm", "packaging/ucwa-eventd.postrm", "Benchmarks/instance-memory.sh",
    ])
    func theScriptIsValidShell(script: String) async throws {
        let path = TestPaths.repository.appendingPathComponent(script).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let shell = text.hasPrefix("#!/usr/bin/env bash") ? "/bin/bash" : "/bin/sh"
        let (status, child) = try await run([shell, "-n", path])
        #expect(status == 0, "\(script): \(child.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: path), "\(script) is not executable")
    }

    /// The maintainer scripts never enable or start a unit: that is the operator's choice.
    @Test func theMaintainerScriptsNeverEnableOrStart() throws {
        for script in ["postinst", "prerm", "postrm"] {
            let text = try String(
                contentsOf: TestPaths.repository.appendingPathComponent("packaging/ucwa-eventd.\(script)"),
                encoding: .utf8
            )
            let commands = text.split(separator: "\n").filter {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#")
            }.joined(separator: "\n")
            for verb in ["enable", " start ", " restart ", "reload-or-restart"] {
                #expect(!commands.contains(verb), "\(script) runs \(verb)")
            }
        }
    }

    /// Without ucwa-sim beside the executable or in PATH, `demo` exits 69 and names both
    /// places it looked.
    @Test func demoNamesWhereItLookedForTheSimulator() async throws {
        let directory = TestPaths.temporaryDirectory()
        let copy = directory + "/ucwa-eventd"
        try FileManager.default.copyItem(atPath: TestPaths.binary("ucwa-eventd"), toPath: copy)
        // A test running in parallel may have forked while the copy's descriptor was open
        // (it is not close-on-exec): exec then fails with ETXTBSY until that child has exec'd.
        var attempt: (status: Int32, child: ChildProcess)?
        for _ in 0..<50 where attempt == nil {
            do {
                attempt = try await run(
                    [copy, "demo", "--invitations", "1"],
                    environment: ["PATH": directory + "/nowhere"]
                )
            } catch let error as SystemCallError where error.errno == .textFileBusy {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let (status, child) = try #require(attempt, "\(copy) stayed busy (ETXTBSY) for 5 s")
        #expect(status == 69, "\(child.stderr)")
        #expect(child.stderr.contains("ucwa-sim was not found"), "\(child.stderr)")
        #expect(child.stderr.contains(directory + "/ucwa-sim (beside this executable)"), "\(child.stderr)")
        #expect(child.stderr.contains("PATH=" + directory + "/nowhere"), "\(child.stderr)")
        #expect(child.stdout.isEmpty)
    }
}
