import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA

/// Every file of ../shared/testdata/ucwa through the pipeline the daemon and `replay` run
/// (decoder → base hold → record builder, `Events=all`), asserting file by file: no href in
/// any record is relative, no value is an empty string, every invitee given as a people link
/// has a `to_uri`, and a body's `baseuri` (all Trusted Application API fixtures put it last)
/// is the origin of every href it applies to.
@Suite struct TestDataRecordTests {
    static let requestURL = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/105/events?ack=3"

    /// Decoder consumer: `BodyBaseHold` plus `RecordBuilder`, as `replay` and the channel use them.
    struct RecordMaker: EventBatchConsumer {
        var hold: BodyBaseHold
        var builder = RecordBuilder(account: "test", filter: .all)
        var ledger = RecordCounters()
        var records: [Record] = []
        var name: String

        init(name: String, limit: Int = 1024) {
            self.name = name
            hold = BodyBaseHold(requestURL: TestDataRecordTests.requestURL, limit: limit)
        }

        mutating func event(_ event: consuming UCWAEvent) {
            if let ready = hold.take(event) { make(ready) }
        }
        mutating func batchLink(_ kind: BatchLinkKind, href: String) {}
        mutating func baseURI(_ uri: String) {
            for ready in hold.baseURI(uri) { make(ready) }
        }
        mutating func end() {
            for ready in hold.end().events { make(ready) }
        }
        mutating func make(_ event: UCWAEvent) {
            let base = hold.base
            let href =
                UCWARel.isInvitation(event.link.rel) ? (Href.resolve(event.link.href.string, against: base) ?? "") : ""
            let resolved = ResolvedEvent(
                event: event,
                href: href,
                resource: event.invitation,
                resolution: event.invitation == nil ? .none : .embedded,
                base: base
            )
            if let record = builder.record(for: resolved, application: "test", batch: name, now: 0, ledger: &ledger) {
                records.append(record)
            }
        }
    }

    static func records(_ url: URL) -> (records: [Record], baseURI: String?)? {
        let bytes = SharedTestData.bytes(url)
        var decoder = EventBatchDecoder(
            consumer: RecordMaker(name: SharedTestData.relative(url)),
            limits: JSONLimits(maxDocumentBytes: nil)
        )
        do {
            try decoder.feed(bytes)
            try decoder.finish()
        } catch {
            return nil
        }
        decoder.consumer.end()
        let base = (SharedTestData.foundationObject(bytes) as? [String: Any])?["baseuri"] as? String
        return (decoder.consumer.records, base)
    }

    /// Every file: those that are not valid batches yield nothing to check, but are walked too.
    @Test(arguments: SharedTestData.jsonFiles())
    func everyHrefIsAbsoluteAndNoValueIsEmpty(_ url: URL) throws {
        let name = SharedTestData.relative(url)
        guard let (records, baseURI) = Self.records(url) else { return }
        for record in records {
            var writer = JSONWriter()
            record.writeJSONLine(into: &writer)
            let document = try JSONValue.parse(writer.bytes.dropLast())
            for member in try #require(document.objectValue) {
                if case .string(let text) = member.value {
                    #expect(!text.isEmpty, "\(name): \(member.key) is empty")
                    if member.key.hasSuffix("_href") {
                        #expect(
                            Href.scheme(of: text) != nil && Href.host(of: text) != nil,
                            "\(name): \(member.key) is relative: \(text)"
                        )
                        if let baseURI, !member.key.hasPrefix("application"), let origin = Href.origin(of: baseURI) {
                            #expect(
                                text.lowercased().hasPrefix(origin),
                                "\(name): \(member.key) ignores the late baseuri: \(text)"
                            )
                        }
                    }
                }
            }
            if let to = record.toHref, to.contains("/people/") {
                #expect(record.toURI != nil, "\(name): the invitee \(to) has no to_uri")
            }
        }
    }

    /// The files that carry the shapes issue 14 is about, with what their records must say.
    @Test func theInvitationKindsOfTheTestDataCarryTheirFields() throws {
        func record(_ file: String, _ kind: String) throws -> Record {
            let url = SharedTestData.ucwa.appendingPathComponent(file)
            let made = try #require(Self.records(url), "\(file)")
            let found = made.records.first { $0.invitationType == kind }
            return try #require(found, "\(file)")
        }
        let trusted = "https://webpoolbl20r04.infra.lync.com/platformservice/"
        let participant = try record(
            "captures/trusted-app-api-sdk-tests/Event_ParticipantInvitationStarted.json",
            "participantInvitation"
        )
        #expect(participant.invitationHref?.hasPrefix(trusted) == true)
        #expect(participant.conversationHref?.hasPrefix(trusted) == true)

        let incoming = try record("captures/trusted-app-api-sdk-tests/Event_IncomingIMCall.json", "messagingInvitation")
        #expect(incoming.toURI == "sip:+12068004732@0mcorp2cloudperf.onmicrosoft.com;user=phone")
        #expect(incoming.fromURI == "tel:+14254996692" && incoming.fromName == "Kumar,Sandeep")
        #expect(incoming.fromHref?.hasPrefix(trusted) == true)
        #expect(incoming.customContent == "ThisIsARandomCustomContent")

        let received = try record(
            "doc-samples/ucwa-events-receiveanim-step8-incoming-messaginginvitation-started-conversation-added.repaired.json",
            "messagingInvitation"
        )
        #expect(received.invitationMessage == "Hi Tosh")
        #expect(
            received.toURI == "sip:toshm@contoso.com" && received.toHref?.hasSuffix("/people/toshm@contoso.com") == true
        )
        #expect(received.fromName == "Lene Aaling" && received.fromURI == "sip:lenea@contoso.com")

        let accepted = try record(
            "doc-samples/ucwa-events-sendanim-step6-multi-sender-messaginginvitation-completed-success.repaired.json",
            "messagingInvitation"
        )
        #expect(accepted.acceptedByURI == "sip:lenea@contoso.com")
        #expect(
            accepted.acceptedByHref
                == "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/102/communication/conversations/21a1/participants/lenea@contoso.com"
        )
        #expect(accepted.toURI == "sip:lenea@contoso.com")
        #expect(accepted.status == "success")

        let meeting = try record(
            "captures/trusted-app-api-sdk-tests/Event_OnlineMeetingInvitationStarted.json",
            "onlineMeetingInvitation"
        )
        #expect(
            meeting.onlineMeetingURI == "sip:BL20R04meet48@noammeetings.lync.com;gruu;opaque=app:conf:focus:id:8C1RSJYA"
        )
        let docMeeting = try record(
            "doc-samples/ucwa-events-operationresource-onlinemeetinginvitation-started.json",
            "onlineMeetingInvitation"
        )
        #expect(docMeeting.onlineMeetingURI == "sip:user@contoso.com;gruu;opaque=app:conf:focus:id:ABCDE")
        #expect(docMeeting.fromURI == "sip:user@contoso.com" && docMeeting.fromName == nil, "title \"\" is no name")

        let audio = try record(
            "captures/trusted-app-api-sdk-tests/Event_IncomingAudioCall.json",
            "audioVideoInvitation"
        )
        #expect(audio.fromURI == "tel:+14254996692" && audio.toURI != nil)

        // A failed prompt (Events=all): a warn ucwa.event with the event's status and reason.
        let prompt = try #require(
            Self.records(
                SharedTestData.ucwa.appendingPathComponent(
                    "doc-samples/tap-event-saas-prompt-completed-failure-with-reason.json"
                )
            )
        )
        let failed = try #require(prompt.records.first)
        #expect(failed.eventName == .event && failed.level == .warn && failed.status == "failure")
        #expect(failed.reasonCode == "Informational" && failed.reasonSubcode == "PromptsStopped")
    }

    /// The test data has the late `baseuri` the issue names: 63 Trusted Application API batches
    /// (55 SDK fixtures, 8 doc samples) put it after `sender`.
    @Test func theTrustedApplicationFixturesPutTheirBaseuriLast() {
        var late = 0
        for url in SharedTestData.jsonFiles() {
            let text = String(decoding: SharedTestData.bytes(url), as: UTF8.self)
            if let sender = text.range(of: "\"sender\""), let base = text.range(of: "\"baseuri\""),
                sender.lowerBound < base.lowerBound
            {
                late += 1
            }
        }
        #expect(late >= 63)
    }

    @Test func theBaseHoldWaitsForALateBaseuriAndNoLonger() throws {
        func event(_ ordinal: Int) -> UCWAEvent {
            UCWAEvent(
                sender: UCWALink(rel: "c", href: "/c"),
                link: UCWALink(rel: "participant", href: UCWAText("/p/\(ordinal)")),
                type: .added,
                position: .init(ordinal: ordinal, senderIndex: 0, eventIndex: ordinal)
            )
        }
        // A late baseuri: everything before it waits, then goes with it; later events go at once.
        var hold = BodyBaseHold(requestURL: "https://a.example/e?ack=1", limit: 4)
        #expect(hold.take(event(0)) == nil && hold.take(event(1)) == nil)
        let released = hold.baseURI("https://b.example")
        #expect(released.map(\.position.ordinal) == [0, 1])
        #expect(hold.base == "https://b.example")
        #expect(hold.take(event(2))?.position.ordinal == 2)
        #expect(hold.end().readAgain == false)
        // No baseuri: the events go at the end, with the request URL.
        var plain = BodyBaseHold(requestURL: "https://a.example/e?ack=1", limit: 4)
        #expect(plain.take(event(0)) == nil)
        let end = plain.end()
        #expect(end.events.count == 1 && !end.readAgain && plain.base == "https://a.example/e?ack=1")
        // More events than the hold before the baseuri: the rest are dropped; read again.
        var full = BodyBaseHold(requestURL: "https://a.example/e?ack=1", limit: 2)
        for ordinal in 0..<5 { #expect(full.take(event(ordinal)) == nil) }
        #expect(full.heldCount == 2 && full.state == .overflowed)
        #expect(full.baseURI("/relative-is-resolved").isEmpty)
        let overflowEnd = full.end()
        #expect(overflowEnd.readAgain && overflowEnd.events.map(\.position.ordinal) == [0, 1])
        #expect(full.base == "https://a.example/relative-is-resolved")
        // The second read knows its base from the start.
        var again = BodyBaseHold(requestURL: "https://a.example/e?ack=1", pinnedBase: full.base, limit: 2)
        #expect(again.take(event(2))?.position.ordinal == 2)
    }
}
