import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA

/// The batch decoder on every payload of ../shared/testdata/ucwa, checked against an independent
/// reading of the same bytes by Foundation's JSONSerialization (used here only, as an oracle).
@Suite struct EventBatchDecoderTestDataTests {
    static let files = SharedTestData.jsonFiles()
    static let batchFiles = files.filter { url in
        guard let object = SharedTestData.foundationObject(SharedTestData.bytes(url)) as? [String: Any] else {
            return false
        }
        return object["sender"] != nil
    }
    /// Published samples that are not valid JSON, with the position Python's json module
    /// reports for them in their `.src.txt` (line, column, offset; all ASCII, so byte-exact).
    static let brokenAsPublished: [String: (line: Int, column: Int, offset: Int)] = [
        "doc-samples/ucwa-events-eventsinucwa-conversation-sender-localparticipant-added-messaging-updated.json": (
            9, 2, 188
        ),
        "doc-samples/ucwa-events-receiveanim-step15-multi-sender-messaginginvitation-completed-success.json": (
            79, 10, 3233
        ),
        "doc-samples/ucwa-events-receiveanim-step8-incoming-messaginginvitation-started-conversation-added.json": (
            74, 4, 2954
        ),
        "doc-samples/ucwa-events-sendanim-step4-outgoing-messaginginvitation-started.json": (59, 1, 1671),
        "doc-samples/ucwa-events-sendanim-step6-multi-sender-messaginginvitation-completed-success.json": (25, 1, 653),
        "doc-samples/ucwa-request-post-applications-createapp.json": (5, 1, 102),
    ]

    @Test func dataIsPresent() {
        #expect(Self.files.count >= 150)
        #expect(Self.batchFiles.count >= 80)
    }

    /// Every batch decodes, whole and byte by byte, into the events an independent parser sees.
    @Test(arguments: batchFiles)
    func decodesLikeTheOracle(_ url: URL) throws {
        let bytes = SharedTestData.bytes(url)
        let name = SharedTestData.relative(url)
        let batch = try EventBatchDecoder.decode(bytes, limits: .eventChannel)
        let object = try #require(SharedTestData.foundationObject(bytes) as? [String: Any])
        let senders = object["sender"] as? [[String: Any]] ?? []
        var expected: [(rel: String, href: String, type: String?, status: String?, senderRel: String?)] = []
        for sender in senders {
            for event in sender["events"] as? [[String: Any]] ?? [] {
                let link = event["link"] as? [String: Any] ?? [:]
                expected.append(
                    (
                        link["rel"] as? String ?? "", link["href"] as? String ?? "", event["type"] as? String,
                        event["status"] as? String, sender["rel"] as? String
                    )
                )
            }
        }
        #expect(batch.events.count == expected.count, "\(name)")
        for (event, oracle) in zip(batch.events, expected) {
            #expect(event.link.rel == oracle.rel, "\(name)")
            #expect(event.link.href == oracle.href, "\(name)")
            #expect(event.type?.description == oracle.type, "\(name)")
            #expect(event.status.string == oracle.status, "\(name)")
            #expect(event.sender.rel == (oracle.senderRel ?? ""), "\(name)")
        }
        for (index, event) in batch.events.enumerated() {
            #expect(event.position.ordinal == index)
        }
        let links = object["_links"] as? [String: Any] ?? [:]
        for kind in BatchLinkKind.allCases {
            let href = (links[kind.rawValue] as? [String: Any])?["href"] as? String
            #expect(batch.links[kind] == href, "\(name) \(kind)")
        }
        #expect(batch.baseURI == object["baseuri"] as? String, "\(name)")

        // Byte by byte: the same result.
        var decoder = EventBatchDecoder(consumer: EventBatchCollector())
        for byte in bytes { try decoder.feed(CollectionOfOne(byte)) }
        try decoder.finish()
        #expect(decoder.consumer.events == batch.events, "\(name) split")
    }

    /// Embedded invitations are decoded into the model with the fields the oracle sees.
    @Test(arguments: batchFiles)
    func embeddedInvitationsMatchTheOracle(_ url: URL) throws {
        let bytes = SharedTestData.bytes(url)
        let batch = try EventBatchDecoder.decode(bytes)
        let object = try #require(SharedTestData.foundationObject(bytes) as? [String: Any])
        var oracle: [[String: Any]?] = []
        for sender in object["sender"] as? [[String: Any]] ?? [] {
            for event in sender["events"] as? [[String: Any]] ?? [] {
                let rel = (event["link"] as? [String: Any])?["rel"] as? String ?? ""
                let embedded = event["_embedded"] as? [String: Any]
                oracle.append(UCWARel.isInvitation(rel) ? embedded?[rel] as? [String: Any] : nil)
            }
        }
        for (event, resource) in zip(batch.events, oracle) {
            guard let resource else {
                #expect(event.invitation == nil)
                continue
            }
            let invitation = try #require(event.invitation, "\(SharedTestData.relative(url)): invitation not decoded")
            #expect(invitation.state.string == resource["state"] as? String)
            #expect(invitation.direction.string == resource["direction"] as? String)
            #expect(invitation.operationId.string == resource["operationId"] as? String)
            #expect(invitation.subject.string == resource["subject"] as? String)
            #expect(invitation.importance.string == resource["importance"] as? String)
        }
    }

    @Test(arguments: Array(brokenAsPublished.keys).sorted())
    func brokenSamplesFailPrecisely(_ name: String) throws {
        let url = SharedTestData.ucwa.appendingPathComponent(name)
        let position = try #require(Self.brokenAsPublished[name])
        let bytes = SharedTestData.bytes(url)
        let error = try #require(throws: JSONError.self) { _ = try JSONValue.parse(bytes) }
        #expect(error.line == position.line, "\(name): \(error)")
        #expect(error.column == position.column, "\(name): \(error)")
        #expect(error.offset == position.offset, "\(name): \(error)")
        // Their repaired twins decode.
        let twin = URL(fileURLWithPath: url.path.replacingOccurrences(of: ".json", with: ".repaired.json"))
        let repaired = SharedTestData.bytes(twin)
        #expect(!repaired.isEmpty)
        #expect(throws: Never.self) { _ = try JSONValue.parse(repaired) }
        if name.contains("ucwa-events-") {
            let batch = try EventBatchDecoder.decode(repaired)
            #expect(!batch.events.isEmpty)
            #expect(throws: JSONError.self) { _ = try EventBatchDecoder.decode(bytes) }
        }
    }

    @Test func malformedTrustedAppFixturesFail() throws {
        // Each is a BOM, "{", a newline, then text that is not a key: found at line 2.
        let cases: [(String, UInt8, Int, Int)] = [
            ("AdhocMeeting_Malformed.json", UInt8(ascii: "m"), 3, 7),
            ("AnonApplicationToken_Malformed.json", UInt8(ascii: "-"), 5, 9),
        ]
        for (name, byte, column, offset) in cases {
            let bytes = SharedTestData.bytes(
                SharedTestData.ucwa.appendingPathComponent("captures/trusted-app-api-sdk-tests/\(name)")
            )
            let error = try #require(throws: JSONError.self) { _ = try JSONValue.parse(bytes) }
            #expect(error.line == 2 && error.column == column && error.offset == offset, "\(name): \(error)")
            #expect(error.kind == .unexpectedByte(byte, expected: "a string key or '}'"), "\(name): \(error)")
        }
    }

    /// Every other JSON document (resources, tokens, errors, requests) parses into a value.
    @Test func everyValidDocumentParses() throws {
        var parsed = 0
        // Foundation also accepts the published sample with a trailing comma: skip the broken ones.
        for url in Self.files
        where SharedTestData.foundationObject(SharedTestData.bytes(url)) != nil
            && Self.brokenAsPublished[SharedTestData.relative(url)] == nil
        {
            let value = try JSONValue.parse(SharedTestData.bytes(url))
            #expect(value != .null, "\(SharedTestData.relative(url))")
            parsed += 1
        }
        #expect(parsed >= 140)
    }

    @Test func nonOfficialFragmentIsRefused() throws {
        let url = SharedTestData.ucwa.appendingPathComponent(
            "doc-samples/nonofficial-github-issue-participantinvitation-completed-failure-declined.fragment.txt"
        )
        let error = try #require(throws: JSONError.self) { _ = try EventBatchDecoder.decode(SharedTestData.bytes(url)) }
        #expect(error.description == "line 1, column 1 (byte 0): an event batch must be a JSON object, found a string")
    }

    /// The Orange live captures are event arrays after a 22-line licence comment.
    @Test func orangeLiveCapturesParse() throws {
        let folder = SharedTestData.ucwa.appendingPathComponent("captures/orange-sfb-connector")
        for name in ["thing-1521733099125.txt", "thing-1521733099132.txt", "thing-1521733100246.txt"] {
            let bytes = SharedTestData.bytes(folder.appendingPathComponent(name))
            let start = try #require(bytes.firstIndex(of: UInt8(ascii: "[")))
            let value = try JSONValue.parse(bytes[start...])
            let events = try #require(value.arrayValue)
            #expect(!events.isEmpty)
            #expect(events.allSatisfy { $0["link"]?["href"]?.stringValue != nil })
        }
    }

    @Test func invitationGetResponseDecodes() throws {
        let url = SharedTestData.ucwa.appendingPathComponent(
            "doc-samples/ucwa-ref-participantinvitation-get-response.json"
        )
        let invitation = try InvitationResource.decode(SharedTestData.bytes(url))
        #expect(invitation.rel == "participantInvitation")
        #expect(invitation.direction == "Incoming")
        #expect(invitation.state == "Connected")
        #expect(invitation.subject == "Strategy for next quarter")
        #expect(invitation.to == "sip:john@contoso.com")
        #expect(invitation.operationId == "74cb7404e0a247d5a2d4eb0376a47dbf")
        #expect(invitation.threadId == "292e0aaef36c426a97757f43dda19d06")
        #expect(invitation.conversationHref == "/ucwa/v1/applications/192/communication/conversations/137")
        #expect(invitation.fromName == "Joe Smith")
        #expect(invitation.fromURI == "sip:john@contoso.com")
    }

    /// The three sample events of the reference page the project started from, with
    /// `ms:rtc:saas:` rels.
    @Test func referencePageSamples() throws {
        let text = try String(
            contentsOf: TestPaths.shared.appendingPathComponent("docs/000_5fd188be5239a3a0.txt"),
            encoding: .utf8
        )
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "{" { current = [] }
            if current != nil { current!.append(line) }
            if line == "}", let block = current {
                blocks.append(block.joined(separator: "\n"))
                current = nil
            }
        }
        #expect(blocks.count == 3)
        let expected: [(UCWAEventType, String)] = [(.started, "67"), (.updated, "29"), (.completed, "79")]
        for (block, (type, ack)) in zip(blocks, expected) {
            let batch = try EventBatchDecoder.decode(Array(block.utf8))
            #expect(batch.events.count == 1)
            let event = try #require(batch.events.first)
            #expect(event.type == type)
            #expect(event.link.rel == "ms:rtc:saas:participantInvitation")
            #expect(event.link.name == "participantInvitation")
            #expect(event.link.href == "communication/invitations/491")
            #expect(event.sender.name == "communication")
            #expect(event.sender.href == "communication")
            #expect(batch.links[.next] == "http://sample:80/ucwa/v1/applications/appId/events?ack=\(ack)")
        }
    }
}
