/// Which events become records (`[Output] Events=`).
public enum EventFilter: String, Sendable, CaseIterable {
    /// `participantInvitation` events only (the default).
    case participantInvitations = "participant-invitations"
    /// Every invitation kind (`messagingInvitation`, `onlineMeetingInvitation`, …).
    case invitations
    /// Invitations as above, and every other event as a `ucwa.event` record.
    case all
}

/// Turns resolved events and channel changes into records (pure): event filter, lifecycle
/// tracking, sanitising, the deterministic `record_id` and the `sequence` counter.
public struct RecordBuilder: Sendable {
    public var account: String
    public var filter: EventFilter
    /// The last sequence number used; persisted by the daemon.
    public var sequence: Int64
    public var tracker: InvitationTracker
    /// The record-id hash of the current batch's prefix, computed once per batch.
    private var seed: RecordIDSeed?

    public init(account: String, filter: EventFilter, sequence: Int64 = 0, tracker: InvitationTracker = InvitationTracker()) {
        self.account = account
        self.filter = filter
        self.sequence = sequence
        self.tracker = tracker
    }

    /// The record of one event, or nil when the filter leaves it out. `batch` is the URL of the
    /// batch the event came in (the same when the server delivers the batch again), `now` the
    /// observation time in microseconds since 1970.
    public mutating func record(for resolved: ResolvedEvent, application: String, batch: String, now: Int64) -> Record? {
        let event = resolved.event
        let relName = event.link.name
        let isInvitation = UCWARel.isInvitation(relName)
        switch filter {
        case .participantInvitations where !(relName == "participantInvitation"): return nil
        case .invitations where !isInvitation: return nil
        default: break
        }
        if seed?.application != application || seed?.batch != batch {
            seed = RecordIDSeed(application: application, batch: batch)
        }
        let recordID = seed!.id(ordinal: event.position.ordinal)
        guard isInvitation, let type = event.type, type == .started || type == .updated || type == .completed else {
            return otherEvent(resolved, recordID: recordID, now: now)
        }
        let lifecycle = tracker.track(resolved, now: now)
        let name: Record.EventName = type == .started ? .invitationStarted : type == .updated ? .invitationUpdated : .invitationCompleted
        let failed = lifecycle.status == "failure"
        var record = nextRecord(
            name, level: failed ? .warn : .info, now: now, recordID: recordID,
            message: type == .completed ? "invitation completed: \(lifecycle.status ?? "unknown")" : "invitation \(type)")
        let resource = resolved.resource
        record.invitationType = UserText.sanitize(relName.string)
        record.invitationHref = UserText.sanitize(resolved.href, limit: UserText.uriLimit)
        record.eventType = type.description
        record.state = UserText.sanitize(resource?.state)
        record.status = lifecycle.status
        record.reasonCode = UserText.sanitize(event.reason?.code)
        record.reasonSubcode = UserText.sanitize(event.reason?.subcode)
        record.reasonMessage = UserText.sanitize(event.reason?.message, limit: UserText.messageLimit)
        record.direction = UserText.sanitize(resource?.direction)
        record.importance = UserText.sanitize(resource?.importance)
        record.operationID = UserText.sanitize(resource?.operationId)
        record.subject = UserText.sanitize(resource?.subject)
        record.threadID = UserText.sanitize(resource?.threadId)
        record.toURI = UserText.sanitize(resource?.to, limit: UserText.uriLimit)
        record.fromURI = UserText.sanitize(resource?.fromURI, limit: UserText.uriLimit)
        record.fromName = UserText.sanitize(resource?.inviterName)
        record.conversationHref = UserText.sanitize(resource?.conversationHref, limit: UserText.uriLimit)
        record.startedAt = lifecycle.startedAt.map { Timestamp.rfc3339(microseconds: $0) }
        record.durationMs = lifecycle.durationMs
        record.resolution = resolved.resolution == .none ? nil : resolved.resolution.rawValue
        return record
    }

    private mutating func otherEvent(_ resolved: ResolvedEvent, recordID: String, now: Int64) -> Record {
        let event = resolved.event
        var record = nextRecord(.event, level: .info, now: now, recordID: recordID, message: "event")
        record.eventType = event.type.map { UserText.sanitize($0.description) }
        record.senderRel = UserText.sanitize(event.sender.rel.string)
        record.senderHref = event.sender.href.isEmpty ? nil : UserText.sanitize(event.sender.href.string, limit: UserText.uriLimit)
        record.linkRel = UserText.sanitize(event.link.rel.string)
        record.linkHref = UserText.sanitize(event.link.href.string, limit: UserText.uriLimit)
        return record
    }

    /// `ucwa.channel.opened`: the channel starts on an application (after start-up, or on a
    /// new application after 404/410, which the reset record before it explains).
    public mutating func channelOpened(application: String, now: Int64) -> Record {
        var record = nextRecord(.channelOpened, level: .info, now: now, recordID: "", message: "event channel opened")
        record.recordID = Self.recordID(application: application, batch: "opened", ordinal: Int(sequence))
        record.applicationHref = UserText.sanitize(application, limit: UserText.uriLimit)
        return record
    }

    /// `ucwa.channel.reset`: events may have been lost or repeated. `mergedResets` > 1: the
    /// record stands for that many consecutive `resync` answers (a resync storm).
    public mutating func channelReset(_ reason: ChannelResetReason, application: String, mergedResets: Int = 1, now: Int64) -> Record {
        let message = mergedResets > 1 ? "event channel reset: \(reason.rawValue) (\(mergedResets) in a row, merged)" : "event channel reset: \(reason.rawValue)"
        var record = nextRecord(.channelReset, level: .warn, now: now, recordID: "", message: message)
        record.recordID = Self.recordID(application: application, batch: "reset", ordinal: Int(sequence))
        record.resetReason = reason.rawValue
        if mergedResets > 1 { record.mergedResets = Int64(mergedResets) }
        record.applicationHref = UserText.sanitize(application, limit: UserText.uriLimit)
        if reason == .applicationNotFound || reason == .applicationExpired || reason == .applicationReplaced { tracker.reset() }
        return record
    }

    private mutating func nextRecord(_ name: Record.EventName, level: Record.Level, now: Int64, recordID: String, message: String) -> Record {
        sequence += 1
        return Record(
            timestamp: Timestamp.rfc3339(microseconds: now), level: level, eventName: name, message: message,
            account: UserText.sanitize(account), recordID: recordID, sequence: sequence)
    }

    /// A 128-bit id (32 hex digits) from the application, the batch URL without our own
    /// `timeout` parameter, and the event's position in the batch: the same event delivered
    /// again gets the same id, so consumers can de-duplicate.
    public static func recordID(application: String, batch: String, ordinal: Int) -> String {
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
