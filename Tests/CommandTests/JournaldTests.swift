import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// The journald sink against a real `systemd-journald`, started by the test in a private mount
/// namespace (tmpfs over /run/systemd, /run/log and /var/log/journal), read back with
/// `journalctl -o json`. Needs root and unshare; skipped with that reason elsewhere.
@Suite(.serialized, .enabled(if: PrivateJournal.canRun, "needs root, unshare(1) and /lib/systemd/systemd-journald"))
struct JournaldTests {
    /// Runs the daemon with `--sink journald` beside a private journald (`PrivateJournal`) until
    /// `stop` exists, then dumps every ucwa-eventd entry as JSON lines into `journal.json`.
    static let body = """
        if [ "$START_JOURNALD" = 1 ]; then start_journald; fi
        start_daemon
        wait_for stop
        stop_daemon
        if [ "$START_JOURNALD" = 1 ]; then
          dump_journal
          kill $J
        fi
        """

    struct Outcome {
        var status: Int32
        var entries: [JSONValue]
        var stderr: String
    }

    func run(
        startJournald: Bool = true,
        diagnosticsToJournal: Bool = false,
        play: (UCWASimulator) async -> Int
    ) async throws -> Outcome {
        let simulator = try await UCWASimulator.start()
        let (work, config) = try simulator.runConfiguration()
        let child = try PrivateJournal.spawn(
            body: Self.body,
            daemonConfig: config,
            work: work,
            environment: [
                "START_JOURNALD": startJournald ? "1" : "0", "DIAGNOSTICS_TO_JOURNAL": diagnosticsToJournal ? "1" : "0",
            ]
        )
        let expected = await play(simulator)
        if expected > 0 { try await simulator.waitForAcknowledged(expected) }
        if startJournald {
            _ = FileManager.default.createFile(atPath: work + "/stop", contents: nil)
        }
        #expect(try await child.wait(timeout: .seconds(60)) == 0, "\(child.stderr)")
        await simulator.shutdown()
        let status = PrivateJournal.daemonStatus(work)
        let json = (try? String(contentsOfFile: work + "/journal.json", encoding: .utf8)) ?? ""
        let entries = try json.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        return Outcome(
            status: status,
            entries: entries,
            stderr: (try? String(contentsOfFile: work + "/daemon.err", encoding: .utf8)) ?? ""
        )
    }

    @Test func recordsArriveAsStructuredEntriesWithTheirMessageIDs() async throws {
        let outcome = try await run { simulator in
            await simulator.play(
                InvitationScript(outcome: .declined, message: "See you there", toAsLink: true, toName: "Bob")
            )
            return 3
        }
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let records = outcome.entries.filter { $0["UCWA_EVENT_NAME"] != nil }
        for entry in outcome.entries {
            // The shim suppresses sd-journal's location fields: no build path in any entry.
            let keys = entry.objectValue?.map(\.key) ?? []
            #expect(!keys.contains { $0.hasPrefix("CODE_") }, "\(keys)")
        }
        for record in records {
            // The record's own time, as stdout writes it, beside journald's receive time.
            let timestamp = try #require(record["UCWA_TIMESTAMP"]?.stringValue)
            let received = try #require(record["__REALTIME_TIMESTAMP"]?.stringValue.flatMap { Int64($0) })
            #expect(timestamp.count == 27 && timestamp.hasSuffix("Z"), "\(timestamp)")
            #expect(
                timestamp <= Timestamp.rfc3339(microseconds: received)
                    && timestamp >= Timestamp.rfc3339(microseconds: received - 10_000_000)
            )
            #expect(record["UCWA_EVENT_TYPE"]?.stringValue == record["UCWA_EVENT"]?.stringValue)
        }
        #expect(records.dropFirst().allSatisfy { $0["UCWA_EVENT_TYPE"] != nil })
        #expect(records[1]["UCWA_INVITATION_MESSAGE"]?.stringValue == "See you there")
        #expect(records[1]["UCWA_TO_URI"]?.stringValue == "sip:bob@contoso.com")
        #expect(records[1]["UCWA_TO_NAME"]?.stringValue == "Bob")
        #expect(
            records[1]["UCWA_TO_HREF"]?.stringValue?.hasSuffix("/ucwa/oauth/v1/applications/101/people/bob@contoso.com")
                == true
        )
        #expect(
            records.map { $0["UCWA_EVENT_NAME"]?.stringValue ?? "" } == [
                "ucwa.channel.opened", "ucwa.invitation.started", "ucwa.invitation.updated",
                "ucwa.invitation.completed",
            ]
        )
        for record in records {
            let name = try #require(Record.EventName(rawValue: record["UCWA_EVENT_NAME"]?.stringValue ?? ""))
            #expect(record["MESSAGE_ID"]?.stringValue == name.messageID)
            #expect(record["UCWA_ACCOUNT"]?.stringValue == "alice")
            #expect(record["UCWA_SCHEMA_VERSION"]?.stringValue == "1")
            #expect(record["UCWA_RECORD_ID"]?.stringValue?.count == 32)
        }
        let completed = records[3]
        #expect(completed["PRIORITY"]?.stringValue == "4")
        #expect(completed["UCWA_STATUS"]?.stringValue == "failure")
        #expect(completed["UCWA_REASON_SUBCODE"]?.stringValue == "Declined")
        #expect(completed["UCWA_STATE"]?.stringValue == "Declined")
        #expect(completed["MESSAGE"]?.stringValue == "invitation completed: failure")
        #expect(records[1]["PRIORITY"]?.stringValue == "6")
        #expect(records[1]["UCWA_SUBJECT"]?.stringValue == "Quarterly review")
    }

    @Test func hostileStringsForgeNoFieldsAndNoEntries() async throws {
        let hostile = [
            "line\nPRIORITY=0\nMESSAGE=forged\nUCWA_EVENT_NAME=ucwa.forged",
            "esc \u{1B}[2J\u{1B}]0;title\u{07} nul \u{0} bidi \u{202E}txt.exe ls \u{2028} ps \u{2029}",
            String(repeating: "long ", count: 2000),
        ]
        let outcome = try await run { simulator in
            for subject in hostile {
                await simulator.play(
                    InvitationScript(to: "sip:x\nPRIORITY=0@contoso.com", subject: subject, withAlerting: false)
                )
            }
            return 6
        }
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let records = outcome.entries.filter { $0["UCWA_EVENT_NAME"] != nil }
        #expect(records.count == 7, "one opening and six invitation events: no forged entries")
        #expect(records.allSatisfy { $0["UCWA_EVENT_NAME"]?.stringValue?.hasPrefix("ucwa.forged") == false })
        #expect(records.allSatisfy { $0["PRIORITY"]?.stringValue != "0" })
        for record in records.dropFirst() {
            let subject = try #require(record["UCWA_SUBJECT"]?.stringValue)
            #expect(
                !subject.unicodeScalars.contains {
                    $0.value < 0x20 || (0x202A...0x202E).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029
                }
            )
            #expect(subject.unicodeScalars.count <= UserText.shortLimit + 1)
            #expect(record["UCWA_TO_URI"]?.stringValue == "sip:x\\u000APRIORITY=0@contoso.com")
            #expect(record["MESSAGE"]?.stringValue?.hasPrefix("invitation ") == true)
        }
        #expect(
            records[1]["UCWA_SUBJECT"]?.stringValue?.hasPrefix("line\\u000APRIORITY=0\\u000AMESSAGE=forged") == true
        )
    }

    @Test func underSystemdDiagnosticsGoToTheJournalNotToStdout() async throws {
        let outcome = try await run(diagnosticsToJournal: true) { simulator in
            await simulator.play(InvitationScript(withAlerting: false))
            return 2
        }
        #expect(outcome.status == 0)
        let diagnostics = outcome.entries.filter { $0["UCWA_EVENT_NAME"] == nil }
        #expect(
            diagnostics.contains {
                $0["MESSAGE"]?.stringValue == "polling: first events request sent" && $0["PRIORITY"]?.stringValue == "6"
            }
        )
        #expect(
            diagnostics.contains {
                $0["MESSAGE"]?.stringValue == "application ready"
                    && $0["UCWAD_APPLICATION"]?.stringValue?.contains("/applications/101") == true
            }
        )
        // Their own prefix, with the account; nothing a `UCWA_*` filter of records would match.
        let daemonEntries = diagnostics.filter { $0["SYSLOG_IDENTIFIER"]?.stringValue == "ucwa-eventd" }
        #expect(!daemonEntries.isEmpty)
        for entry in daemonEntries {
            let keys = entry.objectValue?.map(\.key) ?? []
            #expect(!keys.contains { $0.hasPrefix("UCWA_") }, "\(keys)")
            #expect(entry["UCWAD_ACCOUNT"]?.stringValue == "alice", "\(keys)")
        }
        #expect(outcome.stderr.isEmpty, "diagnostics went to stderr: \(outcome.stderr)")
    }

    @Test func withoutJournaldTheSinkFailsClearlyAtStart() async throws {
        let outcome = try await run(startJournald: false) { _ in 0 }
        #expect(outcome.status == 75)
        #expect(outcome.stderr.contains("no journald socket at /run/systemd/journal/socket"), "\(outcome.stderr)")
    }
}
