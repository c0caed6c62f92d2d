import Testing

@testable import StreamingJSON
@testable import UCWA

/// Issue 14: records carry the whole invitation (new keys), every href absolute, empty strings
/// omitted, generic events with status and reason, resets with the server's error.
@Suite struct InvitationRecordTests {
    static let application = "https://pool.contoso.com/ucwa/oauth/v1/applications/105"
    static let batch = "https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=7&timeout=180"

    /// A resource with every field the records read, link-only `from`/`to`, and an empty subject.
    static let fullResource = #"""
        {"rel":"messagingInvitation","direction":"Outgoing","importance":"Normal","operationId":"op-9","state":"Connected",
         "subject":"","threadId":"t-1","onBehalfOf":"Front desk","onlineMeetingUri":"sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X1",
         "availableModalities":["Messaging","Audio"],
         "_links":{"self":{"href":"/ucwa/oauth/v1/applications/105/communication/messagingInvitations/9"},
           "conversation":{"href":"/ucwa/oauth/v1/applications/105/communication/conversations/c9"},
           "from":{"href":"/ucwa/oauth/v1/applications/105/communication/conversations/c9/participants/alice@contoso.com","title":"Alice Smith"},
           "to":{"href":"/ucwa/oauth/v1/applications/105/people/bob%40contoso.com","title":"Bob Jones"},
           "participant":{"href":"/ucwa/oauth/v1/applications/105/communication/conversations/c9/participants/bob@contoso.com"},
           "acceptedByParticipant":{"href":"/ucwa/oauth/v1/applications/105/communication/conversations/c9/participants/bob@contoso.com","title":"Bob J."},
           "message":{"href":"data:text/plain;charset=utf-8,Hello%20there%2C+Bob%0d%0a"},
           "customContent":{"href":"data:foo/foo,Ticket-42"},
           "cancel":{"href":"/ucwa/oauth/v1/applications/105/communication/messagingInvitations/9/cancel"}}}
        """#

    static func resolved(
        _ resource: InvitationResource,
        type: UCWAEventType = .completed,
        status: String? = "Success",
        base: String = "https://pool.contoso.com/ucwa/oauth/v1/applications/105/events?ack=7"
    ) -> ResolvedEvent {
        let event = UCWAEvent(
            sender: UCWALink(rel: "communication", href: "/ucwa/oauth/v1/applications/105/communication"),
            link: UCWALink(
                rel: "messagingInvitation",
                href: "/ucwa/oauth/v1/applications/105/communication/messagingInvitations/9"
            ),
            type: type,
            status: status.map { UCWAText($0) },
            embedded: .invitation(resource),
            position: .init(ordinal: 0, senderIndex: 0, eventIndex: 0)
        )
        return ResolvedEvent(
            event: event,
            href: "https://pool.contoso.com/ucwa/oauth/v1/applications/105/communication/messagingInvitations/9",
            resource: resource,
            resolution: .embedded,
            base: base
        )
    }

    static func line(_ record: Record) throws -> JSONValue {
        var writer = JSONWriter()
        record.writeJSONLine(into: &writer)
        return try JSONValue.parse(writer.bytes.dropLast())
    }

    @Test func theWholeInvitationReachesTheRecord() throws {
        let resource = try InvitationResource.decode(Array(Self.fullResource.utf8))
        var builder = RecordBuilder(account: "alice", filter: .invitations)
        var ledger = RecordCounters()
        let recordMade = builder.record(
            for: Self.resolved(resource),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        let origin = "https://pool.contoso.com/ucwa/oauth/v1/applications/105"
        #expect(record.onBehalfOf == "Front desk")
        #expect(record.invitationMessage == "Hello there, Bob")
        #expect(record.customContent == "Ticket-42")
        #expect(record.fromHref == origin + "/communication/conversations/c9/participants/alice@contoso.com")
        #expect(record.fromName == "Alice Smith")
        #expect(record.fromURI == "sip:alice@contoso.com", "from the participant href")
        #expect(record.toHref == origin + "/people/bob%40contoso.com")
        #expect(record.toURI == "sip:bob@contoso.com", "from the people link: there is no `to` string")
        #expect(record.toName == "Bob Jones")
        #expect(record.participantHref == origin + "/communication/conversations/c9/participants/bob@contoso.com")
        #expect(record.acceptedByHref == origin + "/communication/conversations/c9/participants/bob@contoso.com")
        #expect(record.acceptedByURI == "sip:bob@contoso.com")
        #expect(record.acceptedByName == "Bob J.")
        #expect(record.onlineMeetingURI == "sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X1")
        #expect(record.availableModalities == "Messaging,Audio")
        #expect(record.conversationHref == origin + "/communication/conversations/c9")
        let document = try Self.line(record)
        let keys = try #require(document.objectValue).map(\.key)
        #expect(!keys.contains("subject"), "\"subject\":\"\" is an absent subject")
        #expect(keys == Record.keys.filter { keys.contains($0) }, "keys in the contract's order")
        // The new keys come after every key of before issue 14.
        let old = Record.keys.firstIndex(of: "application_href")!
        for key in [
            "on_behalf_of", "invitation_message", "from_href", "to_href", "to_name", "participant_href",
            "accepted_by_href",
            "accepted_by_uri", "accepted_by_name", "online_meeting_uri", "previous_application_href",
        ] {
            #expect((Record.keys.firstIndex(of: key) ?? 0) > old, "\(key)")
        }
        let journal = record.journalFields
        #expect(journal.contains("UCWA_INVITATION_MESSAGE=Hello there, Bob"))
        #expect(journal.contains("UCWA_ACCEPTED_BY_URI=sip:bob@contoso.com"))
        #expect(journal.contains("UCWA_ONLINE_MEETING_URI=sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X1"))
        #expect(!journal.contains { $0.hasPrefix("UCWA_SUBJECT=") })
    }

    @Test func embeddedParticipantsWinOverLinksAndEmptyNamesAreAbsent() throws {
        // The SendAnIM step 6 shape: acceptedByParticipant embedded as an array, name "".
        let text = #"""
            {"_links":{"from":{"href":"/p/toshm@contoso.com","title":"Tosh Meston"},"to":{"href":"/ucwa/oauth/v1/applications/102/people/lenea@contoso.com"}},
             "_embedded":{"from":{"name":"","uri":"sip:toshm@contoso.com","_links":{"self":{"href":"/p/toshm@contoso.com"}}},
               "acceptedByParticipant":[{"sourceNetwork":"SameEnterprise","anonymous":false,"name":"","uri":"sip:lenea@contoso.com",
                 "_links":{"self":{"href":"/p/lenea@contoso.com"},"contact":{"href":"/people/lenea@contoso.com"}},"rel":"participant"},
                 {"name":"Second","uri":"sip:second@contoso.com","_links":{"self":{"href":"/p/second"}}}]}}
            """#
        let resource = try InvitationResource.decode(Array(text.utf8))
        #expect(resource.acceptedByName == "")
        #expect(resource.acceptedByURI == "sip:lenea@contoso.com")
        #expect(resource.acceptedByHref == "/p/lenea@contoso.com", "the first participant's self link")
        var builder = RecordBuilder(account: "alice", filter: .invitations)
        var ledger = RecordCounters()
        let recordMade = builder.record(
            for: Self.resolved(resource),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        #expect(record.fromName == "Tosh Meston", "an empty embedded name falls back to the link's title")
        #expect(record.acceptedByName == nil)
        #expect(record.acceptedByURI == "sip:lenea@contoso.com")
        #expect(record.acceptedByHref == "https://pool.contoso.com/p/lenea@contoso.com")
        #expect(record.toURI == "sip:lenea@contoso.com")
        #expect(record.fromHref == "https://pool.contoso.com/p/toshm@contoso.com")
    }

    @Test func aFetchedResourceResolvesAgainstItsOwnURL() throws {
        let resource = try InvitationResource.decode(
            Array(#"{"_links":{"conversation":{"href":"../conversations/1"}}}"#.utf8)
        )
        var resolved = Self.resolved(resource, base: "")
        resolved.href = "https://other.contoso.com/ucwa/v1/applications/1/communication/invitations/7"
        resolved.resolution = .fetched
        var builder = RecordBuilder(account: "alice", filter: .invitations)
        var ledger = RecordCounters()
        let recordMade = builder.record(
            for: resolved,
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        #expect(
            record.conversationHref == "https://other.contoso.com/ucwa/v1/applications/1/communication/conversations/1"
        )
        #expect(record.invitationHref == resolved.href)
    }

    @Test(
        arguments: [
            ("data:text/plain;charset=utf-8,Hello%20there", "Hello there"),
            ("data:text/plain;charset=utf-8,Hi+Tosh%0d%0a", "Hi Tosh"),
            ("DATA:,plain%21", "plain!"),
            ("data:text/plain;base64,SGVsbG8gdGhlcmU=", "Hello there"),
            ("data:text/plain;charset=utf-8;base64,w6k=", "é"),
            ("data:text/html;charset=utf-8,%3Cb%3Ehi%3C%2Fb%3E", "<b>hi</b>"),
            ("  just text  ", "just text"),
        ] as [(String, String)]
    )
    func dataURIsDecodeToTheirText(uri: String, text: String) {
        #expect(DataURI.text(uri) == text)
    }

    @Test(arguments: [
        "data:text/plain,%FF%FE", "data:text/plain;base64,//79", "data:text/plain;base64,*not*", "data:text/plain,",
        "data:no-comma", "   ",
    ])
    func undecodableOrEmptyMessagesAreAbsent(uri: String) {
        #expect(DataURI.text(uri) == nil)
    }

    @Test func messagesAreSanitisedLikeSubjects() throws {
        let resource = try InvitationResource.decode(
            Array(#"{"_links":{"message":{"href":"data:text/plain,line1%0Aline2%1B%5B31m%E2%80%AE"}}}"#.utf8)
        )
        var builder = RecordBuilder(account: "alice", filter: .invitations)
        var ledger = RecordCounters()
        let recordMade = builder.record(
            for: Self.resolved(resource),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        #expect(record.invitationMessage == "line1\\u000Aline2\\u001B[31m\\u202E")
        // The property form (embedded text) is read too.
        let property = try InvitationResource.decode(Array(#"{"ms:rtc:saas:message":"Please join"}"#.utf8))
        #expect(property.message == "Please join")
    }

    @Test(
        arguments: [
            ("/ucwa/oauth/v1/applications/102/people/lenea@contoso.com", "sip:lenea@contoso.com"),
            ("/x/participants/tel:+14254996692?endpointId=sip:a@b", "tel:+14254996692"),
            ("https://pool/x/people/sip%3Abob%40contoso.com", "sip:bob@contoso.com"),
            ("/ucwa/v1/applications/192/people/107", nil),
            ("/x/participants/", nil),
            ("people", nil),
        ] as [(String, String?)]
    )
    func peopleHrefsEndInTheAddress(href: String, address: String?) {
        #expect(PeopleHref.address(href) == address)
    }

    @Test func genericEventsCarryStatusAndReasonAndWarnOnFailure() throws {
        var builder = RecordBuilder(account: "alice", filter: .all)
        var ledger = RecordCounters()
        let failed = UCWAEvent(
            sender: UCWALink(rel: "conversation", href: "/c/1"),
            link: UCWALink(rel: "message", href: "/c/1/messages/2"),
            type: .completed,
            status: "Failure",
            reason: UCWAReason(code: "RemoteFailure", subcode: "Timeout", message: "The message was not delivered."),
            position: .init(ordinal: 0, senderIndex: 0, eventIndex: 0)
        )
        let recordMade = builder.record(
            for: ResolvedEvent(event: failed, href: "", resource: nil, resolution: .none, base: "https://pool/e?ack=1"),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        #expect(record.eventName == .event && record.level == .warn)
        #expect(record.status == "failure")
        #expect(record.reasonCode == "RemoteFailure" && record.reasonSubcode == "Timeout")
        #expect(record.reasonMessage == "The message was not delivered.")
        #expect(record.senderHref == "https://pool/c/1" && record.linkHref == "https://pool/c/1/messages/2")
        var succeeded = failed
        succeeded.status = "Success"
        succeeded.reason = nil
        let okMade = builder.record(
            for: ResolvedEvent(event: succeeded, href: "", resource: nil, resolution: .none, base: "https://pool/e"),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )
        let ok = try #require(okMade)
        #expect(ok.level == .info && ok.status == "success" && ok.reasonCode == nil)
    }

    @Test func theFilterIsDecidedBeforeAnyFetch() {
        func event(_ rel: String, _ type: UCWAEventType) -> UCWAEvent {
            UCWAEvent(
                sender: UCWALink(rel: "communication", href: "/c"),
                link: UCWALink(rel: UCWAText(rel), href: "/i/1"),
                type: type,
                position: .init(ordinal: 0, senderIndex: 0, eventIndex: 0)
            )
        }
        let narrow = RecordBuilder(account: "a", filter: .participantInvitations)
        #expect(narrow.needsResource(event("participantInvitation", .started)))
        #expect(narrow.needsResource(event("ms:rtc:saas:participantInvitation", .completed)))
        #expect(!narrow.needsResource(event("messagingInvitation", .started)), "dropped by the default filter: no GET")
        #expect(!narrow.wants(event("messagingInvitation", .started)))
        let all = RecordBuilder(account: "a", filter: .all)
        #expect(all.needsResource(event("onlineMeetingInvitation", .updated)))
        #expect(!all.needsResource(event("participant", .added)), "other events never read an invitation")
        #expect(all.wants(event("participant", .added)))
    }

    @Test func resetsAfterALostApplicationCarryTheServersErrorAndThePreviousApplication() {
        let builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let reset = builder.channelReset(
            .applicationNotFound,
            application: Self.application + "6",
            now: 0,
            previousApplication: Self.application,
            serverError: UCWAReason(code: "NotFound", subcode: "ApplicationNotFound", message: "An error occurred."),
            ledger: &ledger
        )
        #expect(reset.reasonCode == "NotFound" && reset.reasonSubcode == "ApplicationNotFound")
        #expect(reset.reasonMessage == "An error occurred.")
        #expect(reset.previousApplicationHref == Self.application)
        #expect(reset.applicationHref == Self.application + "6")
        #expect(reset.journalFields.contains("UCWA_PREVIOUS_APPLICATION_HREF=\(Self.application)"))
        let resync = builder.channelReset(.resync, application: Self.application, now: 0, ledger: &ledger)
        #expect(resync.previousApplicationHref == nil && resync.reasonCode == nil)
    }

    @Test func journaldEntriesCarryTheTimestampAndBothEventTypeNames() throws {
        var builder = RecordBuilder(account: "alice", filter: .invitations)
        var ledger = RecordCounters()
        let resource = try InvitationResource.decode(Array(Self.fullResource.utf8))
        let recordMade = builder.record(
            for: Self.resolved(resource),
            application: Self.application,
            batch: Self.batch,
            now: 1_000_000,
            ledger: &ledger
        )
        let record = try #require(recordMade)
        let fields = record.journalFields
        #expect(fields.contains("UCWA_TIMESTAMP=1970-01-01T00:00:01.000000Z"))
        #expect(fields.contains("UCWA_TIMESTAMP=\(record.timestamp)"))
        #expect(fields.contains("UCWA_EVENT=completed") && fields.contains("UCWA_EVENT_TYPE=completed"))
        #expect(!fields.contains { $0.hasPrefix("CODE_") })
        #expect(Set(fields.map { $0.prefix { $0 != "=" } }).count == fields.count, "no field twice")
    }
}
