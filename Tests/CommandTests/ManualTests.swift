import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA

/// The manual pages in man/ cannot drift from the programs: every command and flag that
/// swift-argument-parser knows (`--experimental-dump-help`), every key the configuration
/// loader prints (`check-config`), each with the environment variable the loader really
/// reads, and every exit status appears in them; and they render without groff warnings.
@Suite struct ManualTests {
    static func page(_ name: String) throws -> String {
        let text = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/\(name)"), encoding: .utf8)
        // roff writes a minus sign as `\-`; compare with what a reader sees.
        return text.replacingOccurrences(of: "\\-", with: "-")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ChildProcess {
        let child = try ChildProcess(arguments, environment: environment, directory: TestPaths.temporaryDirectory())
        _ = try await child.wait()
        return child
    }

    /// Each command's name and the long and short names of its options and flags, as the
    /// parser reports them (hidden ones, such as `help`'s `-help`, left out).
    func commands(of program: String) async throws -> [(name: String, flags: [String])] {
        let dump = try await run([TestPaths.binary(program), "--experimental-dump-help"])
        let root = try #require(try JSONValue.parse(dump.stdout)["command"], "\(dump.stderr)")
        var result: [(name: String, flags: [String])] = []
        func walk(_ command: JSONValue) {
            var flags: [String] = []
            for argument in command["arguments"]?.arrayValue ?? [] where argument["shouldDisplay"]?.boolValue != false {
                for name in argument["names"]?.arrayValue ?? [] {
                    guard let text = name["name"]?.stringValue else { continue }
                    flags.append(name["kind"]?.stringValue == "short" ? "-" + text : "--" + text)
                }
            }
            result.append((command["commandName"]?.stringValue ?? "?", flags))
            for subcommand in command["subcommands"]?.arrayValue ?? [] { walk(subcommand) }
        }
        walk(root)
        return result
    }

    /// Every key the loader knows, by section, as `check-config` prints them (`Key=value`, or
    /// `#Key=` when unset) for an empty configuration file.
    func loaderKeys() async throws -> [(section: String, name: String)] {
        let directory = TestPaths.temporaryDirectory()
        try "".write(toFile: directory + "/empty.conf", atomically: true, encoding: .utf8)
        let check = try await run([
            TestPaths.binary("ucwa-eventd"), "check-config", "--config", directory + "/empty.conf",
        ])
        var keys: [(section: String, name: String)] = []
        var section = ""
        for line in check.stdout.split(separator: "\n") {
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("# ") {
                keys.append((section, String(line[..<equals]).trimmingCharacters(in: CharacterSet(charactersIn: "#"))))
            }
        }
        return keys
    }

    @Test func theDaemonsPageNamesEveryCommandAndFlag() async throws {
        let page = try Self.page("ucwa-eventd.8")
        let commands = try await commands(of: "ucwa-eventd")
        #expect(commands.count >= 6, "ucwa-eventd, run, demo, replay, check-config, help")
        for (name, flags) in commands {
            #expect(
                page.contains(".B \(name)") || page.contains(".BR \(name) "),
                "ucwa-eventd(8) lacks the command \(name)"
            )
            for flag in flags {
                #expect(page.contains(flag), "ucwa-eventd(8) lacks \(flag) of \(name)")
            }
        }
        #expect(page.contains("--generate-completion-script"))
    }

    @Test func theSimulatorsPageNamesEveryFlag() async throws {
        let page = try Self.page("ucwa-sim.1")
        let commands = try await commands(of: "ucwa-sim")
        for flag in commands.flatMap(\.flags) {
            #expect(page.contains(flag), "ucwa-sim(1) lacks \(flag)")
        }
    }

    /// `check-config` prints every key the loader knows (`Key=value`, or `#Key=` when unset)
    /// under its `[Section]`; ucwa-eventd.conf(5) documents each in a `.SH [Section]` with
    /// its variable, and setting that variable to an empty value is an error naming it,
    /// which proves the loader reads that very name.
    @Test func theConfigurationPageDocumentsEveryKeyAndItsVariable() async throws {
        let page = try Self.page("ucwa-eventd.conf.5")
        let directory = TestPaths.temporaryDirectory()
        try "".write(toFile: directory + "/empty.conf", atomically: true, encoding: .utf8)
        let keys = try await loaderKeys()
        #expect(keys.count >= 15)
        for (section, name) in keys {
            let heading = try #require(
                page.range(of: ".SH [\(section)]\n"),
                "ucwa-eventd.conf(5) has no section [\(section)]"
            )
            let body = page[heading.upperBound...].prefix { _ in true }
            let sectionText = body.range(of: "\n.SH ").map { body[..<$0.lowerBound] } ?? body
            let entry = try #require(
                sectionText.range(of: ".BR \(name)= \" (\" "),
                "[\(section)] \(name)= is not documented"
            )
            let variable = String(sectionText[entry.upperBound...].prefix { $0 != ")" }).trimmingCharacters(
                in: .whitespaces
            )
            #expect(variable.hasPrefix("UCWA_EVENTD_"), "[\(section)] \(name)=: \(variable)")
            let refused = try await run(
                [TestPaths.binary("ucwa-eventd"), "check-config", "--config", directory + "/empty.conf"],
                environment: [variable: ""]
            )
            #expect(
                refused.stderr.contains("environment variable \(variable)"),
                "\(variable) for [\(section)] \(name)=: \(refused.stderr)"
            )
        }
    }

    /// The example configuration the package installs documents every key too, under its
    /// section, set or commented out (`Key=` or `#Key=`).
    @Test func theExampleConfigurationNamesEveryKey() async throws {
        let example = try String(
            contentsOf: TestPaths.repository.appendingPathComponent("config/ucwa-eventd.conf"),
            encoding: .utf8
        )
        let keys = try await loaderKeys()
        #expect(keys.count >= 15)
        for (section, name) in keys {
            let start = try #require(example.range(of: "[\(section)]\n"), "the example has no [\(section)]")
            let rest = example[start.upperBound...]
            let body = "\n" + (rest.range(of: "\n[").map { rest[..<$0.lowerBound] } ?? rest)
            #expect(
                body.contains("\n\(name)=") || body.contains("\n#\(name)="),
                "the example lacks [\(section)] \(name)="
            )
        }
    }

    /// Every key a record may carry (`Record.keys`, the order the records use) is named in the
    /// RECORDS section, so that a new field cannot reach records undocumented.
    @Test func theDaemonsPageNamesEveryRecordKey() throws {
        let page = try Self.page("ucwa-eventd.8")
        let section = try #require(page.range(of: ".SH RECORDS").map { page[$0.upperBound...] })
        let text = String(section.range(of: "\n.SH ").map { section[..<$0.lowerBound] } ?? section)
        for key in Record.keys {
            let named =
                text.contains(".B \(key)\n") || text.contains(".BR \(key) ") || text.contains(" \(key) ")
                || text.contains(" \(key)\n") || text.contains("\" \(key) ")
            #expect(named, "RECORDS lacks \(key)")
        }
        for field in ["UCWA_TIMESTAMP", "UCWA_EVENT_TYPE", "UCWAD_ACCOUNT", "MESSAGE_ID", "PRIORITY"] {
            #expect(text.contains(field), "RECORDS lacks \(field)")
        }
    }

    /// Every status the programs exit with (DESIGN.md §3, replay's 65 and 74, demo's 69) and those
    /// systemd reports for the unit, each with what to do.
    @Test func theDaemonsPageExplainsEveryExitStatus() throws {
        let page = try Self.page("ucwa-eventd.8")
        let section = try #require(page.range(of: ".SH EXIT STATUS").map { page[$0.upperBound...] })
        let text = section.range(of: "\n.SH ").map { section[..<$0.lowerBound] } ?? section
        for status in [
            "0", "64", "65", "69", "70", "74", "75", "76", "77", "78", "127", "203/EXEC", "238/STATE_DIRECTORY",
            "243/CREDENTIALS",
        ] {
            #expect(text.contains(".B \(status)\n") || text.contains(".BR \(status)\n"), "EXIT STATUS lacks \(status)")
        }
        for signal in ["SIGTERM", "SIGINT", "SIGHUP"] {
            #expect(page.contains(signal), "ucwa-eventd(8) lacks \(signal)")
        }
    }

    @Test(arguments: ["ucwa-eventd.8", "ucwa-eventd.conf.5", "ucwa-sim.1"])
    func thePageRendersWithoutWarnings(page: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/groff") else {
            Issue.record("groff is not installed: cannot check \(page)")
            return
        }
        let path = TestPaths.repository.appendingPathComponent("man/\(page)").path
        let groff = try await run(["/usr/bin/groff", "-man", "-ww", "-z", "-Tutf8", path])
        #expect(groff.stderr.isEmpty, "\(page): \(groff.stderr)")
    }
}
