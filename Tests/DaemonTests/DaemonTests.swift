import Foundation
import Logging
import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// The daemon in-process against the simulator: records in a file, the checkpoint on disk,
/// restarts from it.
@Suite struct DaemonTests {
    static let quiet = Logger(label: "tests") { _ in SwiftLogNoOpLogHandler() }

    /// One daemon run writing records to `output`, in the background.
    final class Run: Sendable {
        let stop = StopSignal()
        let task: Task<Int32, Never>
        let stats: DaemonStats

        init(
            simulator: UCWASimulator,
            stateDirectory: String,
            output: Int32,
            events: EventFilter = .participantInvitations,
            configure: (inout Configuration) -> Void = { _ in }
        ) {
            var configuration = Configuration()
            configuration.discoverURL = simulator.discoverURL
            configuration.username = SimulatorOptions().username
            configuration.account = "alice"
            configuration.stateDirectory = stateDirectory
            configuration.events = events
            configure(&configuration)
            var daemon = Daemon(
                configuration: configuration,
                password: SimulatorOptions().password,
                environment: [:],
                logger: DaemonTests.quiet,
                stop: stop
            )
            daemon.timeoutOverride = 1
            daemon.grace = .seconds(1)
            daemon.policy = RetryPolicy(
                initialDelay: .milliseconds(50),
                maximumDelay: .milliseconds(200),
                jitter: 0,
                maximumRetryAfter: .seconds(2)
            )
            stats = daemon.stats
            let runner = daemon
            task = Task { await runner.run(sink: .stdout(descriptor: output)) }
        }

        func finish() async -> Int32 {
            stop.request()
            return await task.value
        }
    }

    static func records(_ path: String) throws -> [JSONValue] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    @Test func recordsReachTheSinkAndTheCheckpointBeforeTheBatchIsAcknowledged() async throws {
        let simulator = try await UCWASimulator.start()
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        let run = Run(simulator: simulator, stateDirectory: directory + "/state", output: output)
        await simulator.play(InvitationScript(outcome: .connected))
        await simulator.play(InvitationScript(outcome: .declined))
        try await simulator.waitForAcknowledged(6)
        #expect(await run.finish() == 0)
        let records = try Self.records(directory + "/records.jsonl")
        #expect(
            records.map { $0["event_name"]?.stringValue ?? "" } == [
                "ucwa.channel.opened",
                "ucwa.invitation.started", "ucwa.invitation.updated", "ucwa.invitation.completed",
                "ucwa.invitation.started", "ucwa.invitation.updated", "ucwa.invitation.completed",
            ]
        )
        #expect(records.map { $0["sequence"]?.intValue ?? 0 } == Array(1...7))
        #expect(records[3]["status"]?.stringValue == "success" && records[6]["status"]?.stringValue == "failure")
        #expect(records[6]["level"]?.stringValue == "warn" && records[6]["reason_subcode"]?.stringValue == "Declined")
        #expect(records[3]["duration_ms"]?.intValue != nil)
        let checkpoint = try #require(try CheckpointStore(directory: directory + "/state").load())
        #expect(checkpoint.sequence == 7)
        #expect(checkpoint.eventsURL?.contains("ack=") == true)
        #expect(checkpoint.openInvitations.isEmpty)
        #expect(!String(decoding: checkpoint.encoded(), as: UTF8.self).contains(SimulatorOptions().password))
        #expect(!String(decoding: checkpoint.encoded(), as: UTF8.self).contains("cwt="))
        await simulator.shutdown()
    }

    @Test func aRestartResumesTheSameApplicationWhereTheCheckpointLeftOff() async throws {
        let simulator = try await UCWASimulator.start()
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        // Open invitations survive the restart: started before, completed after.
        await simulator.play(InvitationScript(withAlerting: false))
        let first = Run(simulator: simulator, stateDirectory: directory + "/state", output: output)
        try await simulator.waitForAcknowledged(2)
        #expect(await first.finish() == 0)
        let open = try #require(try CheckpointStore(directory: directory + "/state").load()).openInvitations
        #expect(open.isEmpty, "the first invitation completed")
        await simulator.play(InvitationScript())
        let second = Run(simulator: simulator, stateDirectory: directory + "/state", output: output)
        try await simulator.waitForAcknowledged(5)
        #expect(await second.finish() == 0)
        let records = try Self.records(directory + "/records.jsonl")
        let invitations = records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }
        #expect(invitations.count == 5, "no event twice, none lost")
        #expect(Set(invitations.compactMap { $0["record_id"]?.stringValue }).count == 5)
        let resets = records.filter { $0["event_name"]?.stringValue == "ucwa.channel.reset" }
        #expect(resets.isEmpty)
        #expect(await simulator.stats().applicationsCreated == 1, "the restart found the same application")
        #expect(
            records.map { $0["sequence"]?.intValue ?? 0 } == Array(1...records.count),
            "the sequence continues across the restart"
        )
        await simulator.shutdown()
    }

    @Test func aCheckpointWhoseApplicationIsGoneGivesAResetRecord() async throws {
        let simulator = try await UCWASimulator.start()
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        let first = Run(simulator: simulator, stateDirectory: directory + "/state", output: output)
        await simulator.play(InvitationScript(withAlerting: false))
        try await simulator.waitForAcknowledged(2)
        #expect(await first.finish() == 0)
        // While the daemon is down, the server forgets the application.
        let client = HTTPClientForTests()
        try await client.deleteApplication(simulator)
        let second = Run(simulator: simulator, stateDirectory: directory + "/state", output: output)
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(5)
        #expect(await second.finish() == 0)
        let names = try Self.records(directory + "/records.jsonl").compactMap { $0["event_name"]?.stringValue }
        #expect(names.filter { $0 == "ucwa.channel.reset" }.count == 1)
        let reset = try Self.records(directory + "/records.jsonl").first {
            $0["event_name"]?.stringValue == "ucwa.channel.reset"
        }
        #expect(reset?["reset_reason"]?.stringValue == "application_not_found")
        #expect(await simulator.stats().applicationsCreated == 2)
        await simulator.shutdown()
    }

    @Test func theEventsFilterAllWritesOtherEventsToo() async throws {
        let simulator = try await UCWASimulator.start()
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        let run = Run(simulator: simulator, stateDirectory: directory + "/state", output: output, events: .all)
        await simulator.deliver(
            senderRel: "conversation",
            senderHref: "/c/1",
            event: .object([
                .init("link", .object([.init("rel", .string("participant")), .init("href", .string("/p/1"))])),
                .init("type", .string("added")),
            ])
        )
        try await simulator.waitForAcknowledged(1)
        #expect(await run.finish() == 0)
        let other = try Self.records(directory + "/records.jsonl").first {
            $0["event_name"]?.stringValue == "ucwa.event"
        }
        #expect(other?["link_rel"]?.stringValue == "participant")
        #expect(other?["event_type"]?.stringValue == "added")
        await simulator.shutdown()
    }

    @Test func aBrokenPipeIsAnOrderlyStop() async throws {
        let simulator = try await UCWASimulator.start()
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        close(descriptors[0])
        signal(SIGPIPE, SIG_IGN)
        let run = Run(
            simulator: simulator,
            stateDirectory: TestPaths.temporaryDirectory("ucwa-daemon"),
            output: descriptors[1]
        )
        // The first record (channel opened) already meets the closed pipe.
        #expect(await run.task.value == 0)
        close(descriptors[1])
        await simulator.shutdown()
    }

    @Test func aRejectedPasswordEndsTheRunWithExitCode77() async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(password: "something else"))
        let run = Run(simulator: simulator, stateDirectory: TestPaths.temporaryDirectory("ucwa-daemon"), output: 2)
        #expect(await run.task.value == 77)
        await simulator.shutdown()
    }
}

/// Deletes the simulator's application behind the daemon's back.
struct HTTPClientForTests {
    func deleteApplication(_ simulator: UCWASimulator) async throws {
        await simulator.inject(.applicationGone)
        // The fault applies to the next events GET; make one now with a fresh token.
        let client = CurlHTTP.CurlClient()
        defer { client.shutdown() }
        let form = FormEncoding.encode([
            ("grant_type", "password"), ("username", SimulatorOptions().username),
            ("password", SimulatorOptions().password),
        ])
        let token = try await client.execute(
            CurlHTTP.CurlRequest(.post, url: simulator.baseURL + "/WebTicket/oauthtoken", body: Array(form.utf8))
        )
        let access = try JSONValue.parse(token.body)["access_token"]?.stringValue ?? ""
        _ = try await client.execute(
            CurlHTTP.CurlRequest(
                url: simulator.baseURL + "/ucwa/oauth/v1/applications/101/events?ack=999",
                headers: [CurlHTTP.HTTPHeader("Authorization", "Bearer \(access)")]
            )
        )
    }
}
