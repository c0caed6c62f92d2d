import Testing

@testable import StreamingJSON
@testable import UCWA

/// Records: lifecycle, status, sanitising, ids, key order, both encodings.
@Suite struct RecordTests {
    static let application = "https://pool/ucwa/oauth/v1/applications/105"
    static let batch = "https://pool/ucwa/oauth/v1/applications/105/events?ack=7&timeout=180"

    static func invitationEvent(
        _ type: UCWAEventType,
        state: String? = "Connecting",
        status: String? = nil,
        reason: UCWAReason? = nil,
        subject: String = "Review",
        rel: String = "participantInvitation",
        ordinal: Int = 0
    ) -> ResolvedEvent {
        var resource = InvitationResource()
        resource.state = state.map { UCWAText($0) }
        resource.subject = UCWAText(subject)
        resource.direction = "Outgoing"
        resource.to = "sip:bob@contoso.com"
        let event = UCWAEvent(
            sender: UCWALink(rel: "communication", href: "/c"),
            link: UCWALink(
                rel: UCWAText(rel),
                href: "/ucwa/oauth/v1/applications/105/communication/participantInvitations/1"
            ),
            type: type,
            status: status.map { UCWAText($0) },
            reason: reason,
            embedded: .invitation(resource),
            position: .init(ordinal: ordinal, senderIndex: 0, eventIndex: ordinal)
        )
        return ResolvedEvent(
            event: event,
            href: "https://pool/ucwa/oauth/v1/applications/105/communication/participantInvitations/1",
            resource: resource,
            resolution: .embedded
        )
    }

    @Test func lifecycleCarriesStartedAtAndDurationOnCompleted() throws {
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let startedMade = builder.record(
            for: Self.invitationEvent(.started),
            application: Self.application,
            batch: Self.batch,
            now: 1_000_000_000_000_000,
            ledger: &ledger
        )

        let started = try #require(startedMade)
        #expect(started.eventName == .invitationStarted)
        #expect(started.startedAt == "2001-09-09T01:46:40.000000Z")
        #expect(started.durationMs == nil)
        let updatedMade = builder.record(
            for: Self.invitationEvent(.updated, state: "Alerting", ordinal: 1),
            application: Self.application,
            batch: Self.batch,
            now: 1_000_000_001_000_000,
            ledger: &ledger
        )

        let updated = try #require(updatedMade)
        #expect(updated.startedAt == started.startedAt)
        let completedMade = builder.record(
            for: Self.invitationEvent(.completed, state: "Connected", status: "Success", ordinal: 2),
            application: Self.application,
            batch: Self.batch,
            now: 1_000_000_002_500_000,
            ledger: &ledger
        )

        let completed = try #require(completedMade)
        #expect(completed.status == "success")
        #expect(completed.durationMs == 2500)
        #expect(completed.level == .info)
        #expect(ledger.openInvitations.isEmpty)
        #expect([started.sequence, updated.sequence, completed.sequence] == [1, 2, 3])
    }

    @Test(
        arguments: [
            (nil, "Connected", "success"), (nil, "Failed", "failure"), (nil, "Declined", "failure"),
            (nil, "Cancelled", "failure"),
            (nil, "Connecting", "unknown"), (nil, nil, "unknown"), ("Success", "Failed", "success"),
            ("Failure", "Connected", "failure"),
        ] as [(String?, String?, String)]
    )
    func statusFromTheEventElseFromTheState(event: String?, state: String?, expected: String) {
        #expect(InvitationLifecycle.status(event: event, state: state) == expected)
    }

    @Test func completedWithoutStartedAndUpdatedForAnUnseenInvitationAreNormal() throws {
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let completedMade = builder.record(
            for: Self.invitationEvent(
                .completed,
                state: "Declined",
                status: "Failure",
                reason: UCWAReason(code: "RemoteFailure", subcode: "Declined", message: "Your invitation was declined.")
            ),
            application: Self.application,
            batch: Self.batch,
            now: 5,
            ledger: &ledger
        )

        let completed = try #require(completedMade)
        #expect(completed.startedAt == nil && completed.durationMs == nil)
        #expect(completed.level == .warn)
        #expect(completed.reasonSubcode == "Declined")
        var other = RecordBuilder(account: "alice", filter: .participantInvitations)
        var otherLedger = RecordCounters()
        let updatedMade = other.record(
            for: Self.invitationEvent(.updated, state: "Alerting"),
            application: Self.application,
            batch: Self.batch,
            now: 7,
            ledger: &otherLedger
        )

        let updated = try #require(updatedMade)
        #expect(updated.startedAt == Timestamp.rfc3339(microseconds: 7))
    }

    @Test func theFilterChoosesWhichEventsBecomeRecords() {
        let messaging = Self.invitationEvent(.started, rel: "messagingInvitation")
        let participant = ResolvedEvent(
            event: UCWAEvent(
                sender: UCWALink(rel: "conversation", href: "/c"),
                link: UCWALink(rel: "participant", href: "/p"),
                type: .added,
                position: .init(ordinal: 3, senderIndex: 0, eventIndex: 0)
            ),
            href: "",
            resource: nil,
            resolution: .none
        )
        var narrow = RecordBuilder(account: "a", filter: .participantInvitations)
        var narrowLedger = RecordCounters()
        let narrowMessaging = narrow.record(for: messaging, application: "", batch: "", now: 0, ledger: &narrowLedger)
        let narrowParticipant = narrow.record(
            for: participant,
            application: "",
            batch: "",
            now: 0,
            ledger: &narrowLedger
        )
        #expect(narrowMessaging == nil)
        #expect(narrowParticipant == nil)
        var invitations = RecordBuilder(account: "a", filter: .invitations)
        var invitationsLedger = RecordCounters()
        let invitationsMessaging = invitations.record(
            for: messaging,
            application: "",
            batch: "",
            now: 0,
            ledger: &invitationsLedger
        )
        let invitationsParticipant = invitations.record(
            for: participant,
            application: "",
            batch: "",
            now: 0,
            ledger: &invitationsLedger
        )
        #expect(invitationsMessaging?.invitationType == "messagingInvitation")
        #expect(invitationsParticipant == nil)
        var all = RecordBuilder(account: "a", filter: .all)
        var allLedger = RecordCounters()
        let other = all.record(for: participant, application: "", batch: "", now: 0, ledger: &allLedger)
        #expect(other?.eventName == .event)
        #expect(other?.linkRel == "participant" && other?.senderRel == "conversation" && other?.eventType == "added")
        // Prefixed rels count as the same invitation kind.
        let prefixed = narrow.record(
            for: Self.invitationEvent(.started, rel: "ms:rtc:saas:participantInvitation"),
            application: "",
            batch: "",
            now: 0,
            ledger: &narrowLedger
        )
        #expect(prefixed?.invitationType == "participantInvitation")
    }

    @Test func recordIDsAreDeterministicPerApplicationBatchAndPosition() {
        // The value is pinned: ids must not change between versions (consumers de-duplicate on
        // them across restarts and upgrades). FNV-1a 64 twice, computed independently.
        #expect(
            RecordBuilder.recordID(application: Self.application, batch: Self.batch, ordinal: 3)
                == "48c16427bd7f38c6140ea401eb545bb9"
        )
        let first = RecordBuilder.recordID(application: Self.application, batch: Self.batch, ordinal: 3)
        #expect(first.count == 32 && first.allSatisfy { $0.isHexDigit })
        #expect(RecordBuilder.recordID(application: Self.application, batch: Self.batch, ordinal: 3) == first)
        // Our own timeout parameter is not part of the batch's identity.
        #expect(
            RecordBuilder.recordID(
                application: Self.application,
                batch: "https://pool/ucwa/oauth/v1/applications/105/events?ack=7&timeout=900",
                ordinal: 3
            ) == first
        )
        #expect(RecordBuilder.recordID(application: Self.application, batch: Self.batch, ordinal: 4) != first)
        #expect(
            RecordBuilder.recordID(
                application: Self.application,
                batch: "https://pool/ucwa/oauth/v1/applications/105/events?ack=8",
                ordinal: 3
            ) != first
        )
        #expect(RecordBuilder.recordID(application: Self.application + "6", batch: Self.batch, ordinal: 3) != first)
    }

    /// Every scalar up to U+3000 (and a few above): the escape set is exactly C0, DEL, C1,
    /// U+061C, U+200E/F, U+2028/9, U+202A–E, U+2066–9; everything else passes unchanged (the
    /// byte-level fast path and the scalar-level escaping must agree).
    @Test func sanitizeEscapesExactlyTheControlSet() {
        let escaped: Set<UInt32> = Set(0x00...0x1F).union(0x7F...0x9F).union([0x061C, 0x200E, 0x200F, 0x2028, 0x2029])
            .union(0x202A...0x202E).union(0x2066...0x2069)
        var mismatches: [String] = []
        for value in Array(0..<0x3000) + [0xFEFF, 0xFFFD, 0x1F680, 0x10FFFF] {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let text = "x" + String(Character(scalar)) + "y"
            let out = UserText.sanitize(text)
            let hex = String(value, radix: 16, uppercase: true)
            let expected =
                escaped.contains(UInt32(value))
                ? "x\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "y" : text
            if out != expected { mismatches.append("U+\(hex): \(out.debugDescription)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// The sanitiser's eight-byte fast path: an escape wherever it falls among plain ASCII, and
    /// the cap counted exactly over runs of plain ASCII.
    @Test func sanitizeFindsControlsAtEveryPositionAndCapsPlainASCII() {
        for position in 0..<20 {
            for (special, escape) in [
                ("\u{1}", "\\u0001"), ("\u{7F}", "\\u007F"), ("\u{9B}", "\\u009B"), ("\u{202E}", "\\u202E"),
            ] {
                let head = String(repeating: "a", count: position)
                let tail = String(repeating: "b", count: 19 - position)
                #expect(UserText.sanitize(head + special + tail) == head + escape + tail, "\(position)")
            }
            let clean = String(repeating: "a", count: position) + "é\"\\" + String(repeating: "b", count: 19 - position)
            #expect(UserText.sanitize(clean) == clean)
        }
        let exactly = String(repeating: "x", count: UserText.shortLimit)
        #expect(UserText.sanitize(exactly) == exactly)
        #expect(UserText.sanitize(exactly + "y") == exactly + "\u{2026}")
        #expect(UserText.sanitize(exactly + "yyyyyyyy") == exactly + "\u{2026}")
    }

    @Test func sanitizeCapsAtTheLimitCountingScalars() {
        let exactly = String(repeating: "é", count: UserText.shortLimit)
        #expect(UserText.sanitize(exactly) == exactly)
        let over = exactly + "日"
        #expect(UserText.sanitize(over) == exactly + "\u{2026}")
        // Escapes count in the cap: one control character near the end pushes it over.
        let escapedNearEnd = String(repeating: "a", count: UserText.shortLimit - 3) + "\u{1}"
        #expect(
            UserText.sanitize(escapedNearEnd) == String(repeating: "a", count: UserText.shortLimit - 3) + "\u{2026}"
        )
    }

    @Test func hostileStringsAreEscapedAndCapped() throws {
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let hostile =
            "line1\nPRIORITY=0\nMESSAGE=forged\u{0}\u{1B}[31mred\u{202E}evil\u{2028}x"
            + String(repeating: "y", count: 10_000)
        let recordMade = builder.record(
            for: Self.invitationEvent(.started, subject: hostile),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )

        let record = try #require(recordMade)
        let subject = try #require(record.subject)
        #expect(!subject.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202E || $0.value == 0x2028 })
        #expect(
            subject.hasPrefix("line1\\u000APRIORITY=0\\u000AMESSAGE=forged\\u0000\\u001B[31mred\\u202Eevil\\u2028x")
        )
        #expect(subject.unicodeScalars.count <= UserText.shortLimit + 1)
        #expect(subject.hasSuffix("\u{2026}"))
        var writer = JSONWriter()
        record.writeJSONLine(into: &writer)
        let line = String(decoding: writer.bytes, as: UTF8.self)
        #expect(line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("}\n"))
        #expect(record.journalFields.allSatisfy { !$0.contains("\n") })
        #expect(record.journalFields.filter { $0.hasPrefix("PRIORITY=") } == ["PRIORITY=6"])
        #expect(record.journalFields.filter { $0.hasPrefix("MESSAGE=") } == ["MESSAGE=invitation started"])
    }

    @Test func keysComeInTheContractOrderAndAbsentValuesAreOmitted() throws {
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let recordMade = builder.record(
            for: Self.invitationEvent(.started),
            application: Self.application,
            batch: Self.batch,
            now: 0,
            ledger: &ledger
        )

        let record = try #require(recordMade)
        var writer = JSONWriter()
        record.writeJSONLine(into: &writer)
        let document = try JSONValue.parse(writer.bytes.dropLast())
        let keys = try #require(document.objectValue).map(\.key)
        #expect(
            keys == [
                "timestamp", "level", "event_name", "message", "schema_version", "account", "record_id", "sequence",
                "invitation_type", "invitation_href", "event_type", "state", "direction", "subject", "to_uri",
                "started_at", "resolution",
            ]
        )
        #expect(!String(decoding: writer.bytes, as: UTF8.self).contains("null"))
        #expect(document["schema_version"] == .number("1"))
        #expect(document["timestamp"]?.stringValue == "1970-01-01T00:00:00.000000Z")
    }

    @Test func channelRecordsAreWarnForResets() {
        let builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let opened = builder.channelOpened(application: Self.application, now: 0, ledger: &ledger)
        let reset = builder.channelReset(.applicationNotFound, application: Self.application, now: 0, ledger: &ledger)
        #expect(opened.eventName == .channelOpened && opened.level == .info)
        #expect(
            reset.eventName == .channelReset && reset.level == .warn && reset.resetReason == "application_not_found"
        )
        #expect(reset.journalFields.contains("MESSAGE_ID=c4baf33f3bb74ebf8292138872b2d884"))
        #expect(reset.journalFields.contains("PRIORITY=4"))
        #expect(Set(Record.EventName.allCases.map(\.messageID)).count == Record.EventName.allCases.count)
    }

    /// A reset that ends a resync storm says how many answers it merged: `merged_resets`, a
    /// number after every earlier key (schema_version stays 1); absent on an ordinary reset.
    @Test func aStormsResetCarriesMergedResetsLast() {
        let builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        var ledger = RecordCounters()
        let single = builder.channelReset(.resync, application: Self.application, now: 0, ledger: &ledger)
        let storm = builder.channelReset(
            .resync,
            application: Self.application,
            mergedResets: 7,
            now: 0,
            ledger: &ledger
        )
        var writer = JSONWriter()
        single.writeJSONLine(into: &writer)
        let singleLine = String(decoding: writer.bytes, as: UTF8.self)
        writer = JSONWriter()
        storm.writeJSONLine(into: &writer)
        let stormLine = String(decoding: writer.bytes, as: UTF8.self)
        #expect(!singleLine.contains("merged_resets"))
        #expect(
            stormLine.hasSuffix(#","application_href":"\#(Self.application)","merged_resets":7}"# + "\n"),
            "\(stormLine)"
        )
        #expect(stormLine.contains(#""schema_version":1"#))
        #expect(storm.journalFields.contains("UCWA_MERGED_RESETS=7"))
        #expect(storm.message == "event channel reset: resync (7 in a row, merged)")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"), (Int64(951_782_400_123_456), "2000-02-29T00:00:00.123456Z"),
        (Int64(1_798_761_599_999_999), "2026-12-31T23:59:59.999999Z"), (Int64(-1), "1969-12-31T23:59:59.999999Z"),
    ])
    func timestamps(microseconds: Int64, expected: String) {
        #expect(Timestamp.rfc3339(microseconds: microseconds) == expected)
    }
}
