import StreamingJSON

/// One lifecycle record: what operators read in `journalctl` and log shippers forward
/// (DESIGN.md §3). Every field appears in a fixed order; absent values are omitted.
package struct Record: Sendable, Equatable {
    enum Level: String, Sendable {
        case info
        case warn

        /// The syslog priority journald files it under.
        var priority: Int { self == .info ? 6 : 4 }
    }

    /// `event_name`, with the fixed journald `MESSAGE_ID` of each (explained by
    /// `systemd/ucwa-eventd.catalog`).
    enum EventName: String, Sendable, CaseIterable {
        case invitationStarted = "ucwa.invitation.started"
        case invitationUpdated = "ucwa.invitation.updated"
        case invitationCompleted = "ucwa.invitation.completed"
        case channelOpened = "ucwa.channel.opened"
        case channelReset = "ucwa.channel.reset"
        case event = "ucwa.event"

        var messageID: String {
            switch self {
            case .invitationStarted: "7a75d77488874698b27c10074366ea3d"
            case .invitationUpdated: "303a30b04f9848049d582b1c84d7345f"
            case .invitationCompleted: "6bbe7efc928d4f1b8c277917b2daa4d4"
            case .channelOpened: "82619d9b81f246e1b9b909995e1300dd"
            case .channelReset: "c4baf33f3bb74ebf8292138872b2d884"
            case .event: "6a39958bc776417796159b9604bda918"
            }
        }
    }

    /// A field value: text (sanitised before it gets here) or a number.
    enum Value: Sendable, Equatable {
        case text(String)
        case number(Int64)

        var text: String {
            switch self {
            case .text(let text): text
            case .number(let number): String(number)
            }
        }
    }

    static let schemaVersion = 1

    var timestamp: String
    var level: Level
    var eventName: EventName
    /// Short human text with no user-controlled strings.
    var message: String
    var account: String
    var recordID: String
    package var sequence: Int64
    var invitationType: String?
    var invitationHref: String?
    var eventType: String?
    var state: String?
    var status: String?
    var reasonCode: String?
    var reasonSubcode: String?
    var reasonMessage: String?
    var direction: String?
    var importance: String?
    var operationID: String?
    var subject: String?
    var threadID: String?
    var toURI: String?
    var fromURI: String?
    var fromName: String?
    var conversationHref: String?
    var startedAt: String?
    var durationMs: Int64?
    var resolution: String?
    // Extensions of the contract, after its fields: other events and channel records.
    var senderRel: String?
    var senderHref: String?
    var linkRel: String?
    var linkHref: String?
    var resetReason: String?
    var applicationHref: String?
    // Issue 14's extensions (DESIGN.md §3), after the fields above: more of the invitation, and
    // the application a reset replaced.
    var onBehalfOf: String?
    var invitationMessage: String?
    var customContent: String?
    var fromHref: String?
    var toHref: String?
    var toName: String?
    var participantHref: String?
    var acceptedByHref: String?
    var acceptedByURI: String?
    var acceptedByName: String?
    var onlineMeetingURI: String?
    var availableModalities: String?
    var previousApplicationHref: String?
    /// `ucwa.channel.reset` after a resync storm: how many consecutive `resync` answers the
    /// record stands for (absent when one).
    var mergedResets: Int64?

    init(
        timestamp: String,
        level: Level,
        eventName: EventName,
        message: String,
        account: String,
        recordID: String,
        sequence: Int64
    ) {
        self.timestamp = timestamp
        self.level = level
        self.eventName = eventName
        self.message = message
        self.account = account
        self.recordID = recordID
        self.sequence = sequence
    }

    /// Calls `body` with each field — JSON key, journald field, value — in the contract's order,
    /// absent and empty values left out, without building a list (the encoders run once per
    /// record). `timestamp` is `UCWA_TIMESTAMP` (journald's own timestamp is when it received
    /// the entry); `level` is `PRIORITY`.
    @inline(__always)
    func forEachField(_ body: (_ key: StaticString, _ journal: StaticString?, _ value: Value) -> Void) {
        body("timestamp", "UCWA_TIMESTAMP", .text(timestamp))
        body("level", "PRIORITY", .text(level.rawValue))
        body("event_name", "UCWA_EVENT_NAME", .text(eventName.rawValue))
        body("message", "MESSAGE", .text(message))
        body("schema_version", "UCWA_SCHEMA_VERSION", .number(Int64(Self.schemaVersion)))
        body("account", "UCWA_ACCOUNT", .text(account))
        body("record_id", "UCWA_RECORD_ID", .text(recordID))
        body("sequence", "UCWA_SEQUENCE", .number(sequence))
        func add(_ key: StaticString, _ journal: StaticString, _ value: String?) {
            // An empty string is an absent value (`"subject":""` says nothing).
            if let value, !value.isEmpty { body(key, journal, .text(value)) }
        }
        add("invitation_type", "UCWA_INVITATION_TYPE", invitationType)
        add("invitation_href", "UCWA_INVITATION_HREF", invitationHref)
        add("event_type", "UCWA_EVENT", eventType)
        add("state", "UCWA_STATE", state)
        add("status", "UCWA_STATUS", status)
        add("reason_code", "UCWA_REASON_CODE", reasonCode)
        add("reason_subcode", "UCWA_REASON_SUBCODE", reasonSubcode)
        add("reason_message", "UCWA_REASON_MESSAGE", reasonMessage)
        add("direction", "UCWA_DIRECTION", direction)
        add("importance", "UCWA_IMPORTANCE", importance)
        add("operation_id", "UCWA_OPERATION_ID", operationID)
        add("subject", "UCWA_SUBJECT", subject)
        add("thread_id", "UCWA_THREAD_ID", threadID)
        add("to_uri", "UCWA_TO_URI", toURI)
        add("from_uri", "UCWA_FROM_URI", fromURI)
        add("from_name", "UCWA_FROM_NAME", fromName)
        add("conversation_href", "UCWA_CONVERSATION_HREF", conversationHref)
        add("started_at", "UCWA_STARTED_AT", startedAt)
        if let durationMs { body("duration_ms", "UCWA_DURATION_MS", .number(durationMs)) }
        add("resolution", "UCWA_RESOLUTION", resolution)
        add("sender_rel", "UCWA_SENDER_REL", senderRel)
        add("sender_href", "UCWA_SENDER_HREF", senderHref)
        add("link_rel", "UCWA_LINK_REL", linkRel)
        add("link_href", "UCWA_LINK_HREF", linkHref)
        add("reset_reason", "UCWA_RESET_REASON", resetReason)
        add("application_href", "UCWA_APPLICATION_HREF", applicationHref)
        add("on_behalf_of", "UCWA_ON_BEHALF_OF", onBehalfOf)
        add("invitation_message", "UCWA_INVITATION_MESSAGE", invitationMessage)
        add("custom_content", "UCWA_CUSTOM_CONTENT", customContent)
        add("from_href", "UCWA_FROM_HREF", fromHref)
        add("to_href", "UCWA_TO_HREF", toHref)
        add("to_name", "UCWA_TO_NAME", toName)
        add("participant_href", "UCWA_PARTICIPANT_HREF", participantHref)
        add("accepted_by_href", "UCWA_ACCEPTED_BY_HREF", acceptedByHref)
        add("accepted_by_uri", "UCWA_ACCEPTED_BY_URI", acceptedByURI)
        add("accepted_by_name", "UCWA_ACCEPTED_BY_NAME", acceptedByName)
        add("online_meeting_uri", "UCWA_ONLINE_MEETING_URI", onlineMeetingURI)
        add("available_modalities", "UCWA_AVAILABLE_MODALITIES", availableModalities)
        add("previous_application_href", "UCWA_PREVIOUS_APPLICATION_HREF", previousApplicationHref)
        if let mergedResets { body("merged_resets", "UCWA_MERGED_RESETS", .number(mergedResets)) }
    }

    /// Every JSON key a record may carry, in order (for documentation and tests).
    static var keys: [String] {
        var record = Record(
            timestamp: "t",
            level: .info,
            eventName: .event,
            message: "m",
            account: "a",
            recordID: "r",
            sequence: 1
        )
        for path in Self.optionalTexts { record[keyPath: path] = "x" }
        record.durationMs = 1
        record.mergedResets = 2
        var out: [String] = []
        record.forEachField { key, _, _ in out.append("\(key)") }
        return out
    }

    /// The optional text fields, for `keys`.
    static var optionalTexts: [WritableKeyPath<Record, String?>] {
        [
            \.invitationType, \.invitationHref, \.eventType, \.state, \.status, \.reasonCode, \.reasonSubcode,
            \.reasonMessage,
            \.direction, \.importance, \.operationID, \.subject, \.threadID, \.toURI, \.fromURI, \.fromName,
            \.conversationHref, \.startedAt, \.resolution, \.senderRel, \.senderHref, \.linkRel, \.linkHref,
            \.resetReason,
            \.applicationHref, \.onBehalfOf, \.invitationMessage, \.customContent, \.fromHref, \.toHref, \.toName,
            \.participantHref, \.acceptedByHref, \.acceptedByURI, \.acceptedByName, \.onlineMeetingURI,
            \.availableModalities, \.previousApplicationHref,
        ]
    }

    /// Appends the record as one JSON object and a newline. `JSONWriter` escapes controls,
    /// U+2028/U+2029 and bidi controls, so one record is always exactly one line.
    package func writeJSONLine(into writer: inout JSONWriter) {
        writer.raw("{")
        var first = true
        forEachField { key, _, value in
            // Keys are fixed ASCII names: written as they are.
            writer.key(key, first: first)
            first = false
            switch value {
            case .text(let text): writer.string(text)
            case .number(let number): writer.raw(String(number).utf8)
            }
        }
        writer.raw("}\n")
    }

    /// The journald entry: `FIELD=value` strings, with `MESSAGE_ID`, `SYSLOG_IDENTIFIER` and
    /// `PRIORITY` as numbers journald understands. `event_type` goes out twice: as `UCWA_EVENT`
    /// (its first name, kept for existing filters) and as `UCWA_EVENT_TYPE` (the name stdout uses).
    package var journalFields: [String] {
        var out = ["MESSAGE_ID=\(eventName.messageID)", "SYSLOG_IDENTIFIER=ucwa-eventd"]
        forEachField { _, journal, value in
            guard let journal else { return }
            if journal.utf8CodeUnitCount == 8, "\(journal)" == "PRIORITY" {
                out.append("PRIORITY=\(level.priority)")
            } else {
                out.append("\(journal)=\(value.text)")
                if journal.utf8CodeUnitCount == 10, "\(journal)" == "UCWA_EVENT" {
                    out.append("UCWA_EVENT_TYPE=\(value.text)")
                }
            }
        }
        return out
    }
}
