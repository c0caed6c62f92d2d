/// Which events become records (`[Output] Events=`).
package enum EventFilter: String, Sendable, CaseIterable {
    /// `participantInvitation` events only (the default).
    case participantInvitations = "participant-invitations"
    /// Every invitation kind (`messagingInvitation`, `onlineMeetingInvitation`, …).
    case invitations
    /// Invitations as above, and every other event as a `ucwa.event` record.
    case all
}

/// Turns resolved events and channel changes into records (pure): event filter, sanitising,
/// absolute hrefs, the deterministic `record_id`. What outlives a record, its `sequence` number
/// and the invitations' lifecycles, it asks of the `ledger` it is given (their one owner).
package struct RecordBuilder: Sendable {
    var account: String
    package var filter: EventFilter
    /// The record-id hash of the current batch's prefix, computed once per batch.
    private var seed: RecordIDSeed?

    package init(account: String, filter: EventFilter) {
        self.account = account
        self.filter = filter
    }

    /// Whether the filter keeps `event` (decided before anything is fetched for it).
    package func wants(_ event: UCWAEvent) -> Bool {
        switch filter {
        case .participantInvitations: return event.link.name == "participantInvitation"
        case .invitations: return UCWARel.isInvitation(event.link.rel)
        case .all: return true
        }
    }

    /// Whether the record of `event` reads its invitation resource: a lifecycle event of an
    /// invitation that the filter keeps. Nothing else is worth a GET.
    package func needsResource(_ event: UCWAEvent) -> Bool {
        guard wants(event), UCWARel.isInvitation(event.link.rel), let type = event.type else { return false }
        return type == .started || type == .updated || type == .completed
    }

    /// The record of one event, or nil when the filter leaves it out. `batch` is the URL of the
    /// batch the event came in (the same when the server delivers the batch again), `now` the
    /// observation time in microseconds since 1970. Every href in the record is resolved
    /// against `resolved.base` (else the invitation's href). The record's sequence number and
    /// the invitation's lifecycle come from `ledger`.
    package mutating func record(
        for resolved: ResolvedEvent,
        application: String,
        batch: String,
        now: Int64,
        ledger: inout some RecordLedger
    ) -> Record? {
        let event = resolved.event
        guard wants(event) else { return nil }
        let relName = event.link.name
        if seed?.application != application || seed?.batch != batch {
            seed = RecordIDSeed(application: application, batch: batch)
        }
        let recordID = seed!.id(ordinal: event.position.ordinal)
        let baseURL = resolved.base.isEmpty ? resolved.href : resolved.base
        if base?.url != baseURL { base = Href.Base(baseURL, after: base) }
        guard needsResource(event), let type = event.type else {
            return otherEvent(resolved, recordID: recordID, now: now, ledger: &ledger)
        }
        let lifecycle = ledger.track(resolved, now: now)
        let name: Record.EventName =
            type == .started ? .invitationStarted : type == .updated ? .invitationUpdated : .invitationCompleted
        let failed = lifecycle.status == "failure"
        var record = nextRecord(
            name,
            level: failed ? .warn : .info,
            now: now,
            recordID: recordID,
            message: type == .completed
                ? "invitation completed: \(lifecycle.status ?? "unknown")" : "invitation \(type)",
            ledger: &ledger
        )
        let resource = resolved.resource
        record.invitationType = UserText.sanitize(relName.string)
        record.invitationHref = absolute(resolved.href.isEmpty ? event.link.href.string : resolved.href)
        record.eventType = type.description
        record.state = UserText.sanitize(resource?.state)
        record.status = lifecycle.status
        addReason(event, to: &record)
        record.direction = UserText.sanitize(resource?.direction)
        record.importance = UserText.sanitize(resource?.importance)
        record.operationID = UserText.sanitize(resource?.operationId)
        record.subject = UserText.sanitize(resource?.subject)
        record.threadID = UserText.sanitize(resource?.threadId)
        let toLink = resource?.toHref.nonEmpty?.string
        record.toURI = (resource?.to.nonEmpty?.string ?? toLink.flatMap(PeopleHref.address)).map {
            UserText.sanitize($0, limit: UserText.uriLimit)
        }
        let fromLink = resource?.fromHref.nonEmpty?.string
        record.fromURI = (resource?.fromURI.nonEmpty?.string ?? fromLink.flatMap(PeopleHref.address)).map {
            UserText.sanitize($0, limit: UserText.uriLimit)
        }
        record.fromName = UserText.sanitize(resource?.inviterName)
        record.conversationHref = absolute(resource?.conversationHref)
        record.startedAt = lifecycle.startedAt.map { Timestamp.rfc3339(microseconds: $0) }
        record.durationMs = lifecycle.durationMs
        record.resolution = resolved.resolution == .none ? nil : resolved.resolution.rawValue
        guard let resource else { return record }
        record.onBehalfOf = UserText.sanitize(resource.onBehalfOf)
        record.invitationMessage = resource.message.flatMap { DataURI.text($0.string) }.map {
            UserText.sanitize($0, limit: UserText.messageLimit)
        }
        record.customContent = resource.customContent.flatMap { DataURI.text($0.string) }.map {
            UserText.sanitize($0, limit: UserText.messageLimit)
        }
        record.fromHref = absolute(resource.fromHref)
        record.toHref = absolute(resource.toHref)
        record.toName = UserText.sanitize(resource.toTitle.nonEmpty)
        record.participantHref = absolute(resource.participantHref)
        let acceptedLink = resource.acceptedByHref.nonEmpty?.string
        record.acceptedByHref = absolute(resource.acceptedByHref)
        record.acceptedByURI = (resource.acceptedByURI.nonEmpty?.string ?? acceptedLink.flatMap(PeopleHref.address))
            .map { UserText.sanitize($0, limit: UserText.uriLimit) }
        record.acceptedByName = UserText.sanitize(resource.acceptorName)
        record.onlineMeetingURI = UserText.sanitize(resource.onlineMeetingURI, limit: UserText.uriLimit)
        record.availableModalities = UserText.sanitize(resource.availableModalities)
        return record
    }

    /// The base of the event being recorded, parsed once per base.
    private var base: Href.Base?

    /// `href` resolved against the event's base and sanitised; nil when absent or empty.
    private func absolute(_ href: String?) -> String? {
        guard let href, !href.isEmpty else { return nil }
        // Already absolute (the invitation href the resolver resolved; servers that send full
        // URLs): no parse.
        if href.utf8.starts(with: "https://".utf8) || href.utf8.starts(with: "http://".utf8) {
            return UserText.sanitize(href, limit: UserText.uriLimit)
        }
        return UserText.sanitize(base?.resolve(href) ?? href, limit: UserText.uriLimit)
    }

    private func absolute(_ href: UCWAText?) -> String? {
        guard let href = href.nonEmpty else { return nil }
        if let resolved = base?.resolve(href) { return UserText.sanitize(resolved, limit: UserText.uriLimit) }
        return absolute(href.string)
    }

    /// The event's `reason`, sanitised.
    private func addReason(_ event: UCWAEvent, to record: inout Record) {
        record.reasonCode = UserText.sanitize(event.reason?.code)
        record.reasonSubcode = UserText.sanitize(event.reason?.subcode)
        record.reasonMessage = UserText.sanitize(event.reason?.message, limit: UserText.messageLimit)
    }

    /// `ucwa.event`: any other event (`Events=all`), with its status and reason; `warn` when the
    /// event reports a failure.
    private func otherEvent(
        _ resolved: ResolvedEvent,
        recordID: String,
        now: Int64,
        ledger: inout some RecordLedger
    ) -> Record {
        let event = resolved.event
        let status = event.status.nonEmpty.map { InvitationLifecycle.eventStatus($0.string) }
        var record = nextRecord(
            .event,
            level: status == "failure" ? .warn : .info,
            now: now,
            recordID: recordID,
            message: "event",
            ledger: &ledger
        )
        record.eventType = event.type.map { UserText.sanitize($0.description) }
        record.status = status
        addReason(event, to: &record)
        record.senderRel = UserText.sanitize(event.sender.rel.string)
        record.senderHref = absolute(event.sender.href)
        record.linkRel = UserText.sanitize(event.link.rel.string)
        record.linkHref = absolute(event.link.href)
        return record
    }

    /// `ucwa.channel.opened`: the channel starts on an application (after start-up, or on a
    /// new application after 404/410, which the reset record before it explains).
    package func channelOpened(application: String, now: Int64, ledger: inout some RecordLedger) -> Record {
        var record = nextRecord(
            .channelOpened,
            level: .info,
            now: now,
            recordID: "",
            message: "event channel opened",
            ledger: &ledger
        )
        record.recordID = Self.recordID(application: application, batch: "opened", ordinal: Int(record.sequence))
        record.applicationHref = UserText.sanitize(application, limit: UserText.uriLimit)
        return record
    }

    /// `ucwa.channel.reset`: events may have been lost or repeated. After 404/410 the record
    /// carries the server's error (`reason_code`/`reason_subcode`/`reason_message`) and the
    /// application that was lost (`previous_application_href`); `application` is the one the
    /// channel goes on with. `mergedResets` > 1: the record stands for that many consecutive
    /// `resync` answers (a resync storm). A reset to another application tells `ledger` to
    /// forget the open invitations.
    package func channelReset(
        _ reason: ChannelResetReason,
        application: String,
        mergedResets: Int = 1,
        now: Int64,
        previousApplication: String? = nil,
        serverError: UCWAReason? = nil,
        ledger: inout some RecordLedger
    ) -> Record {
        let message =
            mergedResets > 1
            ? "event channel reset: \(reason.rawValue) (\(mergedResets) in a row, merged)"
            : "event channel reset: \(reason.rawValue)"
        var record = nextRecord(.channelReset, level: .warn, now: now, recordID: "", message: message, ledger: &ledger)
        record.recordID = Self.recordID(application: application, batch: "reset", ordinal: Int(record.sequence))
        record.resetReason = reason.rawValue
        if mergedResets > 1 { record.mergedResets = Int64(mergedResets) }
        record.applicationHref = UserText.sanitize(application, limit: UserText.uriLimit)
        record.reasonCode = UserText.sanitize((serverError?.code).nonEmpty)
        record.reasonSubcode = UserText.sanitize(serverError?.subcode.nonEmpty)
        record.reasonMessage = UserText.sanitize(serverError?.message.nonEmpty, limit: UserText.messageLimit)
        if let previousApplication, previousApplication != application {
            record.previousApplicationHref = UserText.sanitize(previousApplication, limit: UserText.uriLimit)
        }
        if reason == .applicationNotFound || reason == .applicationExpired || reason == .applicationReplaced {
            ledger.forgetInvitations()
        }
        return record
    }

    private func nextRecord(
        _ name: Record.EventName,
        level: Record.Level,
        now: Int64,
        recordID: String,
        message: String,
        ledger: inout some RecordLedger
    ) -> Record {
        Record(
            timestamp: Timestamp.rfc3339(microseconds: now),
            level: level,
            eventName: name,
            message: message,
            account: UserText.sanitize(account),
            recordID: recordID,
            sequence: ledger.nextSequence()
        )
    }

    /// A 128-bit id (32 hex digits) from the application, the batch URL without our own
    /// `timeout` parameter, and the event's position in the batch: the same event delivered
    /// again gets the same id, so consumers can de-duplicate.
    static func recordID(application: String, batch: String, ordinal: Int) -> String {
        RecordIDSeed(application: application, batch: batch).id(ordinal: ordinal)
    }
}

/// The deterministic 128-bit record id: two 64-bit FNV-1a hashes (different offset bases) of
/// `application \n batch-URL-without-timeout \n ordinal`, as 32 hex digits. The seed holds
/// both hashes after the prefix, so that each event of a batch only hashes its ordinal.
struct RecordIDSeed: Sendable {
    let application: String
    let batch: String
    private let first: UInt64
    private let second: UInt64

    init(application: String, batch: String) {
        self.application = application
        self.batch = batch
        let prefix = "\(application)\n\(Href.removingQuery("timeout", from: batch))\n"
        first = Self.fnv1a(prefix.utf8, 0xcbf2_9ce4_8422_2325)
        second = Self.fnv1a(prefix.utf8, 0x6c62_272e_07bb_0142)
    }

    func id(ordinal: Int) -> String {
        let digits = String(ordinal).utf8
        let a = Self.fnv1a(digits, first)
        let b = Self.fnv1a(digits, second)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            let hex = Array("0123456789abcdef".utf8)
            for index in 0..<16 {
                buffer[index] = hex[Int(a >> (60 - 4 * UInt64(index)) & 0xF)]
                buffer[16 + index] = hex[Int(b >> (60 - 4 * UInt64(index)) & 0xF)]
            }
            return 32
        }
    }

    @inline(__always)
    private static func fnv1a(_ bytes: some Sequence<UInt8>, _ start: UInt64) -> UInt64 {
        var hash = start
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
