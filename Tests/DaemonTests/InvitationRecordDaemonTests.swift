import Foundation
import Testing
import UCWATestSupport

@testable import Eventd
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// Issue 14 through the daemon against the simulator: the whole invitation in the records
/// (embedded and fetched), a late `baseuri`, no GET for filtered events, failing generic
/// events, and the reset after a lost application before the new opening.
@Suite struct InvitationRecordDaemonTests {
    /// Runs the daemon until `events` events are acknowledged; returns its records.
    static func records(
        _ simulator: UCWASimulator,
        events: EventFilter = .participantInvitations,
        acknowledged: Int,
        configure: (inout Configuration) -> Void = { _ in },
        before: (() async -> Void)? = nil,
        during: () async -> Void
    ) async throws -> [JSONValue] {
        let directory = TestPaths.temporaryDirectory("ucwa-daemon")
        let output = open(directory + "/records.jsonl", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        defer { close(output) }
        await before?()
        let run = DaemonTests.Run(
            simulator: simulator,
            stateDirectory: directory + "/state",
            output: output,
            events: events,
            configure: configure
        )
        await during()
        try await simulator.waitForAcknowledged(acknowledged)
        #expect(await run.finish() == 0)
        return try DaemonTests.records(directory + "/records.jsonl")
    }

    static let richScript = InvitationScript(
        to: "sip:bob@contoso.com",
        outcome: .connected,
        kind: "messagingInvitation",
        onBehalfOf: "Front desk",
        message: "Hello there, Bob",
        toAsLink: true,
        toName: "Bob Jones",
        fromLinkOnly: true,
        acceptedBy: (name: "Bob Jones", uri: "sip:bob@contoso.com")
    )

    @Test(arguments: [true, false])
    func theWholeInvitationReachesTheRecords(embedded: Bool) async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(embedResources: embedded))
        let records = try await Self.records(simulator, events: .invitations, acknowledged: 3) {
            await simulator.play(Self.richScript)
        }
        let invitations = records.filter { $0["invitation_type"]?.stringValue == "messagingInvitation" }
        #expect(invitations.count == 3)
        let application = simulator.baseURL + "/ucwa/oauth/v1/applications/101"
        for record in invitations {
            #expect(record["resolution"]?.stringValue == (embedded ? "embedded" : "fetched"))
            #expect(record["on_behalf_of"]?.stringValue == "Front desk")
            #expect(record["invitation_message"]?.stringValue == "Hello there, Bob")
            #expect(record["to_uri"]?.stringValue == "sip:bob@contoso.com", "from the people link")
            #expect(record["to_name"]?.stringValue == "Bob Jones")
            #expect(record["to_href"]?.stringValue == application + "/people/bob@contoso.com")
            #expect(
                record["from_href"]?.stringValue == application
                    + "/communication/conversations/1/participants/alice@contoso.com"
            )
            #expect(record["from_uri"]?.stringValue == "sip:alice@contoso.com")
            #expect(record["from_name"] == nil)
            #expect(
                record["participant_href"]?.stringValue == application
                    + "/communication/conversations/1/participants/bob@contoso.com"
            )
            #expect(record["conversation_href"]?.stringValue == application + "/communication/conversations/1")
            #expect(record["invitation_href"]?.stringValue == application + "/communication/messagingInvitations/1")
        }
        let completed = try #require(invitations.last)
        #expect(completed["accepted_by_uri"]?.stringValue == "sip:bob@contoso.com")
        #expect(completed["accepted_by_name"]?.stringValue == "Bob Jones")
        #expect(
            completed["accepted_by_href"]?.stringValue == application
                + "/communication/conversations/1/participants/bob@contoso.com"
        )
        if embedded {
            // A GET answers the resource as it is now (Connected): only embedded copies are of their time.
            #expect(invitations.first?["accepted_by_uri"] == nil, "nobody accepted yet")
        }
        await simulator.shutdown()
    }

    /// `ResolvePeople=yes`: people linked without a name are fetched once each; by default no
    /// person is fetched and the records keep the hrefs (and the address a people href ends in).
    @Test(arguments: [true, false])
    func peopleLinkedWithoutANameAreFetchedOnlyWhenAsked(resolve: Bool) async throws {
        let simulator = try await UCWASimulator.start()
        let script = InvitationScript(
            to: "sip:bob@contoso.com",
            kind: "messagingInvitation",
            toAsLink: true,
            fromLinkOnly: true
        )
        let records = try await Self.records(
            simulator,
            events: .invitations,
            acknowledged: 6,
            configure: { $0.resolvePeople = resolve },
            during: {
                await simulator.play(script)
                await simulator.play(script)
            }
        )
        let invitations = records.filter { $0["invitation_type"]?.stringValue == "messagingInvitation" }
        #expect(invitations.count == 6)
        for record in invitations {
            #expect(record["to_uri"]?.stringValue == "sip:bob@contoso.com")
            #expect(record["from_uri"]?.stringValue == "sip:alice@contoso.com")
            #expect(record["to_name"]?.stringValue == (resolve ? "Bob Jones" : nil))
            #expect(record["from_name"]?.stringValue == (resolve ? "Alice Smith" : nil))
        }
        // Two invitations, two conversations (one `from` participant each), one contact.
        #expect(await simulator.stats().peopleRequests == (resolve ? 3 : 0))
        await simulator.shutdown()
    }

    /// People whose link has a name are not fetched, even with `ResolvePeople=yes`.
    @Test func peopleWithANameAreNotFetched() async throws {
        let simulator = try await UCWASimulator.start()
        let script = InvitationScript(kind: "messagingInvitation", toAsLink: true, toName: "Bob J.")
        let records = try await Self.records(
            simulator,
            events: .invitations,
            acknowledged: 3,
            configure: { $0.resolvePeople = true },
            during: {
                await simulator.play(script)
            }
        )
        #expect(
            records.filter { $0["to_name"]?.stringValue == "Bob J." && $0["from_name"]?.stringValue == "Alice Smith" }
                .count == 3
        )
        #expect(await simulator.stats().peopleRequests == 1, "only the from participant, which has a name but no uri")
        await simulator.shutdown()
    }

    @Test func meetingInvitationsCarryTheMeetingAndItsModalities() async throws {
        let simulator = try await UCWASimulator.start()
        let records = try await Self.records(simulator, events: .invitations, acknowledged: 3) {
            await simulator.play(InvitationScript(kind: "onlineMeetingInvitation"))
        }
        let started = try #require(records.first { $0["event_name"]?.stringValue == "ucwa.invitation.started" })
        #expect(started["invitation_type"]?.stringValue == "onlineMeetingInvitation")
        #expect(
            started["online_meeting_uri"]?.stringValue == "sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:SIM1"
        )
        #expect(started["available_modalities"]?.stringValue == "Messaging,Audio")
        await simulator.shutdown()
    }

    /// The base comes last in every body: hrefs are relative to it alone, so a record or a GET
    /// that used the request URL instead would name a resource that does not exist.
    @Test(arguments: [true, false])
    func aLateBaseuriAppliesToTheEventsBeforeIt(embedded: Bool) async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(embedResources: embedded))
        await simulator.update { $0.lateBaseURI = true }
        let records = try await Self.records(simulator, acknowledged: 6) {
            await simulator.play(InvitationScript(outcome: .connected))
            await simulator.play(InvitationScript(outcome: .declined))
        }
        let invitations = records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }
        #expect(invitations.count == 6)
        let communication = simulator.baseURL + "/ucwa/oauth/v1/applications/101/communication"
        for record in invitations {
            let number = record["invitation_href"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "?"
            #expect(record["invitation_href"]?.stringValue == communication + "/participantInvitations/" + number)
            #expect(record["conversation_href"]?.stringValue == communication + "/conversations/" + number)
            #expect(
                record["resolution"]?.stringValue == (embedded ? "embedded" : "fetched"),
                "the GET went to the right URL"
            )
        }
        let requests = await simulator.stats().requests
        #expect(
            !requests.contains { $0.contains("/applications/101/ucwa/") },
            "nothing resolved against the request URL"
        )
        await simulator.shutdown()
    }

    /// More events before the `baseuri` than the hold keeps: the batch is read twice, and every
    /// event still gives exactly one record, in order, with the right base.
    @Test func aBatchWhoseEventsOutrunItsBaseuriIsReadAgain() async throws {
        var options = SimulatorOptions(maxEventsPerBatch: 5000)
        options.lateBaseURI = true
        let simulator = try await UCWASimulator.start(options: options)
        let scripts = 400
        let records = try await Self.records(
            simulator,
            acknowledged: scripts * 3,
            before: {
                // Queued before the application exists: the first batch takes all 1200 events.
                for index in 0..<scripts { await simulator.play(InvitationScript(subject: "Many \(index)")) }
            },
            during: {}
        )
        let invitations = records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }
        #expect(invitations.count == scripts * 3)
        #expect(Set(invitations.compactMap { $0["record_id"]?.stringValue }).count == scripts * 3, "each event once")
        let subjects = invitations.compactMap { $0["subject"]?.stringValue }
        #expect(subjects == (0..<scripts).flatMap { Array(repeating: "Many \($0)", count: 3) }, "in order")
        let prefix = simulator.baseURL + "/ucwa/oauth/v1/applications/101/communication/participantInvitations/"
        #expect(invitations.allSatisfy { $0["invitation_href"]?.stringValue?.hasPrefix(prefix) == true })
        #expect(await simulator.stats().batchesResent >= 1, "read twice")
        await simulator.shutdown()
    }

    @Test func eventsTheFilterDropsCostNoGet() async throws {
        let simulator = try await UCWASimulator.start(options: SimulatorOptions(embedResources: false))
        let records = try await Self.records(simulator, acknowledged: 6) {
            await simulator.play(InvitationScript(kind: "messagingInvitation"))
            await simulator.play(InvitationScript(kind: "participantInvitation"))
        }
        #expect(records.filter { $0["event_name"]?.stringValue?.hasPrefix("ucwa.invitation.") == true }.count == 3)
        let gets = await simulator.stats().requests.filter { $0.hasPrefix("GET ") && $0.contains("Invitations/") }
        #expect(!gets.contains { $0.contains("/messagingInvitations/") }, "\(gets)")
        #expect(gets.filter { $0.contains("/participantInvitations/") }.count == 3)
        await simulator.shutdown()
    }

    @Test func failingGenericEventsAreWarnRecordsWithStatusAndReason() async throws {
        let simulator = try await UCWASimulator.start()
        let records = try await Self.records(simulator, events: .all, acknowledged: 1) {
            await simulator.deliver(
                senderRel: "conversation",
                senderHref: "/ucwa/oauth/v1/applications/101/communication/conversations/7",
                event: .object([
                    .init(
                        "link",
                        .object([
                            .init("rel", .string("message")),
                            .init(
                                "href",
                                .string(
                                    "/ucwa/oauth/v1/applications/101/communication/conversations/7/messaging/messages/3"
                                )
                            ),
                        ])
                    ),
                    .init("status", .string("Failure")),
                    .init(
                        "reason",
                        .object([
                            .init("code", .string("RemoteFailure")), .init("subcode", .string("Timeout")),
                            .init("message", .string("Not delivered.")),
                        ])
                    ),
                    .init("type", .string("completed")),
                ])
            )
        }
        let event = try #require(records.first { $0["event_name"]?.stringValue == "ucwa.event" })
        #expect(event["level"]?.stringValue == "warn")
        #expect(event["status"]?.stringValue == "failure")
        #expect(
            event["reason_code"]?.stringValue == "RemoteFailure" && event["reason_subcode"]?.stringValue == "Timeout"
        )
        #expect(event["reason_message"]?.stringValue == "Not delivered.")
        #expect(
            event["link_href"]?.stringValue == simulator.baseURL
                + "/ucwa/oauth/v1/applications/101/communication/conversations/7/messaging/messages/3"
        )
        #expect(
            event["sender_href"]?.stringValue == simulator.baseURL
                + "/ucwa/oauth/v1/applications/101/communication/conversations/7"
        )
        await simulator.shutdown()
    }

    @Test(arguments: [SimulatorFault.applicationGone, .applicationExpired])
    func theResetAfterALostApplicationComesFirstAndNamesIt(fault: SimulatorFault) async throws {
        let simulator = try await UCWASimulator.start()
        let records = try await Self.records(simulator, acknowledged: 6) {
            await simulator.play(InvitationScript())
            try? await simulator.waitForAcknowledged(3)
            await simulator.inject(fault)
            await simulator.play(InvitationScript(outcome: .declined))
        }
        let names = records.map { $0["event_name"]?.stringValue ?? "" }
        let reset = try #require(names.firstIndex(of: "ucwa.channel.reset"))
        #expect(names[reset + 1] == "ucwa.channel.opened", "\(names)")
        let record = records[reset]
        let first = simulator.baseURL + "/ucwa/oauth/v1/applications/101"
        let second = simulator.baseURL + "/ucwa/oauth/v1/applications/102"
        #expect(record["previous_application_href"]?.stringValue == first)
        #expect(record["application_href"]?.stringValue == second)
        #expect(records[reset + 1]["application_href"]?.stringValue == second)
        if fault == .applicationGone {
            #expect(record["reset_reason"]?.stringValue == "application_not_found")
            #expect(
                record["reason_code"]?.stringValue == "NotFound"
                    && record["reason_subcode"]?.stringValue == "ApplicationNotFound"
            )
        } else {
            #expect(record["reset_reason"]?.stringValue == "application_expired")
            #expect(
                record["reason_code"]?.stringValue == "Gone"
                    && record["reason_subcode"]?.stringValue == "InactiveApplicationExpired"
            )
        }
        #expect(record["reason_message"]?.stringValue?.isEmpty == false)
        await simulator.shutdown()
    }
}
