import Foundation
import Testing
import UCWATestSupport

/// `ucwa-eventd replay` run as a real process on the built binary.
@Suite(.serialized) struct ReplayCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary; its stdout is a pipe read here, or `output` (then `stdout` is empty).
    func run(_ arguments: [String], output: FileHandle? = nil) throws -> Run {
        let process = Process()
        process.executableURL = TestPaths.daemon
        process.arguments = arguments
        process.currentDirectoryURL = TestPaths.repository
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = output ?? out
        process.standardError = err
        try process.run()
        let stdout = output == nil ? out.fileHandleForReading.readDataToEndOfFile() : Data()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    @Test func printsTheLifecycleRecordsByDefault() throws {
        let result = try run([
            "replay", "samples/01-participant-invitation-started.json",
            "samples/02-invitation-updated-and-completed.json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let names = records.map { $0["event_name"] as? String ?? "" }
        #expect(names.first == "ucwa.invitation.started")
        #expect(names.contains("ucwa.invitation.completed"))
        let completed = try #require(records.first { $0["event_name"] as? String == "ucwa.invitation.completed" })
        #expect(completed["status"] as? String == "failure")
        #expect(completed["resolution"] as? String == "embedded")
        #expect(completed["duration_ms"] != nil, "started in the first file, completed in the second")
        #expect(records.map { $0["sequence"] as? Int ?? 0 } == Array(1...records.count))
    }

    @Test func printsOneJSONLinePerEvent() throws {
        let result = try run([
            "replay", "--raw", "samples/01-participant-invitation-started.json",
            "samples/02-invitation-updated-and-completed.json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(
                object["link_rel"] as? String == "participantInvitation"
                    || object["link_rel"] as? String == "participant"
            )
        }
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[3].utf8)) as? [String: Any])
        #expect(last["type"] as? String == "completed")
        #expect(last["reason_subcode"] as? String == "Declined")
        #expect(last["state"] as? String == "Declined")
        #expect(
            lines[0].hasPrefix(
                #"{"source":"samples/01-participant-invitation-started.json","ordinal":0,"sender_rel":"communication""#
            )
        )
    }

    @Test func sameOutputAtAnyChunkSize() throws {
        let whole = try run([
            "replay", "--raw", "samples/01-participant-invitation-started.json",
            "samples/03-trusted-app-prefixed-rels.json",
        ])
        let bytewise = try run([
            "replay", "--raw", "--chunk-size", "1", "samples/01-participant-invitation-started.json",
            "samples/03-trusted-app-prefixed-rels.json",
        ])
        #expect(whole.status == 0 && bytewise.status == 0)
        #expect(!whole.stdout.isEmpty)
        #expect(whole.stdout == bytewise.stdout)
    }

    @Test func brokenFileIsNamedWithThePositionAndFailsTheRun() throws {
        let path = SharedTestData.ucwa(
            "doc-samples/ucwa-events-sendanim-step6-multi-sender-messaginginvitation-completed-success.json"
        )
        let result = try run(["replay", "--raw", path, "samples/04-resync.json"])
        #expect(result.status == 65)
        #expect(
            result.stderr.contains(
                "\(path): not a valid event batch: line 25, column 1 (byte 653): expected a string key, found '.'"
            ),
            "\(result.stderr)"
        )
    }

    @Test func eventsBeforeAnErrorArePrinted() throws {
        let path = TestPaths.temporaryDirectory("replay") + "/partial.json"
        let body =
            #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"participant","href":"/p/1"},"type":"added"},{"link":{"rel":"participant","href":"/p/2"},"type":"added"},"#
        try Data(body.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try run(["replay", "--raw", path])
        #expect(result.status == 65)
        #expect(result.stdout.split(separator: "\n").count == 2)
        #expect(result.stderr.contains("unexpected end of input"), "\(result.stderr)")
    }

    @Test func missingFileIsReported() throws {
        let result = try run(["replay", "--raw", "no/such/file.json"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("open no/such/file.json: No such file or directory"), "\(result.stderr)")
    }

    @Test func summaryNamesTheNextLink() throws {
        let result = try run(["replay", "--raw", "--summary", "samples/04-resync.json"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.contains(
                "samples/04-resync.json: 0 events, 159 bytes, resync=/ucwa/oauth/v1/applications/10165861200/events?ack=38"
            ),
            "\(result.stderr)"
        )
    }

    @Test func controlCharactersInFileNamesAreEscaped() throws {
        let result = try run(["replay", "--raw", "no/\u{1B}[31mred.json"])
        #expect(result.status == 65)
        #expect(!result.stderr.contains("\u{1B}"))
        #expect(result.stderr.contains("\\u001B[31mred.json"))
    }

    /// A file name and a server's href reach the terminal with their control, line-break and
    /// bidi characters escaped as in the records (`UserText`): ESC, a newline, U+061C (the
    /// Arabic letter mark, which reorders a line) and U+202E.
    @Test func fileNamesAndHrefsReachTheTerminalEscaped() throws {
        let directory = TestPaths.temporaryDirectory("replay-escape")
        let path = directory + "/a\u{1B}[31m\nb\u{061C}c\u{202E}.json"
        let body = #"{"_links":{"resync":{"href":"/events?x=\u001b[2J\n\u061c"}},"sender":[]}"#
        try Data(body.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [["replay", path], ["replay", "--summary", path], ["replay", path + ".missing"]] {
            let result = try run(arguments)
            for raw: Unicode.Scalar in ["\u{1B}", "\u{061C}", "\u{202E}"] {
                #expect(!result.stderr.unicodeScalars.contains(raw), "\(arguments): \(result.stderr)")
            }
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains("a\\u001B[31m\\u000Ab\\u061Cc\\u202E.json"),
                "\(arguments): \(result.stderr)"
            )
        }
        let resync = try run(["replay", path]).stderr
        #expect(resync.contains("start again at /events?x=\\u001B[2J\\u000A\\u061C)"), "\(resync)")
        let summary = try run(["replay", "--summary", path]).stderr
        #expect(summary.contains("resync=/events?x=\\u001B[2J\\u000A\\u061C"), "\(summary)")
    }

    @Test func validJSONThatIsNoEventBatchIsSaidOnStderr() throws {
        let resource = SharedTestData.ucwa("doc-samples/ucwa-ref-participantinvitation-get-response.json")
        let empty = TestPaths.temporaryDirectory("replay") + "/empty.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: empty))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let result = try run(["replay", resource, empty, "samples/01-participant-invitation-started.json"])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("\(resource): valid JSON, but not an event batch"), "\(result.stderr)")
        #expect(result.stderr.contains("\(empty): valid JSON, but not an event batch"), "\(result.stderr)")
        #expect(result.stdout.contains("ucwa.invitation.started"), "the batch is still replayed")
        // An empty heartbeat batch is a batch.
        let heartbeat = try run(["replay", SharedTestData.ucwa("doc-samples/tap-event-saas-empty-heartbeat.json")])
        #expect(heartbeat.status == 0 && heartbeat.stderr.isEmpty, "\(heartbeat.stderr)")
    }

    @Test func aResyncOnlyBodyIsReported() throws {
        let result = try run(["replay", "samples/04-resync.json"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("samples/04-resync.json: no events, only a resync link"), "\(result.stderr)")
        #expect(result.stderr.contains("/ucwa/oauth/v1/applications/10165861200/events?ack=38"))
    }

    @Test func hrefsAreAbsoluteAgainstTheLateBaseuriElseTheBaseURL() throws {
        let trusted = SharedTestData.ucwa("captures/trusted-app-api-sdk-tests/Event_ParticipantInvitationStarted.json")
        let result = try run([
            "replay", "--base-url", "https://pool.contoso.com/ucwa/oauth/v1/applications/9/events?ack=1",
            trusted, "samples/01-participant-invitation-started.json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try result.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let fromTrusted = try #require(
            records.first { ($0["invitation_href"] as? String)?.contains("/platformservice/") == true }
        )
        #expect(
            (fromTrusted["invitation_href"] as? String)?.hasPrefix(
                "https://webpoolbl20r04.infra.lync.com/platformservice/tgt-"
            ) == true
        )
        #expect(
            (fromTrusted["conversation_href"] as? String)?.hasPrefix(
                "https://webpoolbl20r04.infra.lync.com/platformservice/tgt-"
            ) == true
        )
        for record in records {
            for (key, value) in record where key.hasSuffix("_href") {
                let text = value as? String ?? ""
                #expect(text.hasPrefix("https://"), "\(key): \(text)")
            }
        }
        // Without a baseuri, against --base-url; by default against the reserved unknown origin.
        #expect(records.contains { ($0["invitation_href"] as? String)?.hasPrefix("https://pool.contoso.com/") == true })
        let unknown = try run(["replay", "samples/01-participant-invitation-started.json"])
        #expect(unknown.stdout.contains("\"invitation_href\":\"https://ucwa.invalid/"), "\(unknown.stdout)")
        let bad = try run(["replay", "--base-url", "/relative", "samples/01-participant-invitation-started.json"])
        #expect(bad.status == 64)
    }

    /// More events than the base hold before a late baseuri: the file is read twice, each event
    /// printed once, in order, against the baseuri.
    @Test func aFileWhoseEventsOutrunItsBaseuriIsReadTwice() throws {
        let path = TestPaths.temporaryDirectory("replay") + "/late.json"
        var body = #"{"sender":[{"rel":"communication","href":"communication","events":["#
        let count = 1500
        for index in 0..<count {
            if index > 0 { body += "," }
            body +=
                #"{"link":{"rel":"participantInvitation","href":"communication/participantInvitations/\#(index)"},"type":"started"}"#
        }
        body += #"]}],"baseuri":"https://late.contoso.com/base/"}"#
        try Data(body.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for chunk in ["65536", "7"] {
            let result = try run(["replay", "--chunk-size", chunk, path])
            #expect(result.status == 0, "\(result.stderr)")
            let hrefs = result.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["invitation_href"]
                    as? String
            }
            #expect(
                hrefs == (0..<count).map { "https://late.contoso.com/base/communication/participantInvitations/\($0)" },
                "chunk \(chunk)"
            )
        }
    }

    /// Standard output that cannot be written (/dev/full) is named with the call and its
    /// reason, and the run exits 74 instead of dropping the records silently.
    @Test func aFailedWriteToStdoutIsNamedAndExits74() throws {
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        defer { try? full.close() }
        let result = try run(["replay", "samples/01-participant-invitation-started.json"], output: full)
        #expect(result.status == 74)
        #expect(result.stderr.contains("replay: write stdout: No space left on device"), "\(result.stderr)")
    }

    @Test func usageErrorsExit64() throws {
        let result = try run(["replay", "--raw", "--chunk-size", "0", "x"])
        #expect(result.status == 64)
    }
}
