import UCWA

/// What survives a restart, and its one owner (DESIGN.md §3 Files): the endpoint id, the
/// application, the events URL to request next, the sequence counter and its reservation, the
/// open invitations. Nothing else changes them: records ask it for their numbers and report
/// invitation lifecycles to it (`RecordLedger`), the daemon asks it for the checkpoint to save
/// at each step of a run and saves that (`CheckpointStore`). Pure: no I/O.
///
/// It holds the state twice over: committed (what the last checkpoint says: the batch last
/// completed) and live (the numbers and invitations records used since). A batch's end commits
/// its records' sequence and invitations together with its `next`; a crash before that delivers
/// the batch again from the committed state, with the same `record_id`s, and numbers above the
/// reservation, so that no sequence number is used twice.
struct PersistedState: Sendable {
    /// The endpoint id, kept for the life of the state directory: a restart finds the same
    /// application.
    let endpointID: String
    /// The application the committed events URL belongs to.
    package private(set) var applicationURL: String?
    private var applicationsURL: String?
    /// The committed URL to request next.
    private var eventsURL: String?
    /// The last sequence number of the committed batches' records.
    private var committedSequence: Int64
    /// Sequence numbers up to here may have been used (as the last checkpoint says).
    private var sequenceReserved: Int64
    /// The open invitations as the committed batches left them.
    private var committedInvitations: [String: Int64]
    /// The last sequence number given to a record, and the open invitations (href → first
    /// sighting, µs since 1970) as the records so far left them.
    private var live: RecordCounters

    /// Sequence numbers reserved ahead at each commit: after a crash the next run starts above
    /// them (a gap of at most this many), and a batch of more records saves once more per this
    /// many.
    static var sequenceBlock: Int64 { 1024 }

    /// The state a previous run saved (or a new one: `Checkpoint(endpointID:)`). Numbers go on
    /// above the reservation: those up to it may have reached the sink.
    init(restoring saved: Checkpoint) {
        endpointID = saved.endpointID
        applicationURL = saved.applicationURL
        applicationsURL = saved.applicationsURL
        eventsURL = saved.eventsURL
        committedSequence = saved.sequence
        sequenceReserved = saved.sequenceReserved
        committedInvitations = saved.openInvitations
        live = RecordCounters(sequence: saved.firstFreeSequence, openInvitations: saved.openInvitations)
    }

    /// The committed state, as `checkpoint.json` holds it.
    var checkpoint: Checkpoint {
        snapshot(reservedUpTo: sequenceReserved)
    }

    private func snapshot(reservedUpTo reserved: Int64, keepingApplication: Bool = true) -> Checkpoint {
        Checkpoint(
            endpointID: endpointID,
            applicationURL: keepingApplication ? applicationURL : nil,
            applicationsURL: applicationsURL,
            eventsURL: keepingApplication ? eventsURL : nil,
            sequence: committedSequence,
            sequenceReserved: reserved,
            openInvitations: committedInvitations
        )
    }

    /// The session signed in to `application`: where the channel resumes. The saved events URL
    /// when the saved application is this one; nil for a first run, and when the saved
    /// application is gone (`applicationLost`): its unacknowledged events went with it, and
    /// its open invitations are forgotten. `applicationURL` still names it until `opened`.
    mutating func resume(on application: String) -> (eventsURL: String?, applicationLost: Bool) {
        guard let saved = applicationURL else { return (nil, false) }
        if saved == application { return (eventsURL, false) }
        eventsURL = nil
        committedInvitations = [:]
        live.forgetInvitations()
        return (nil, true)
    }

    /// The channel starts on `endpoints`, its records written: the application and the records
    /// so far are committed, and so is the application's first events URL when it is new (or
    /// none was saved), before the first poll: a crash before the first batch is done resumes
    /// there, not at whatever the server would hand out later (which would acknowledge the batch
    /// unseen). The checkpoint to save once the records are in the sink.
    mutating func opened(_ endpoints: ApplicationEndpoints) -> Checkpoint {
        let fresh = applicationURL != endpoints.applicationURL || eventsURL == nil
        applicationURL = endpoints.applicationURL
        applicationsURL = endpoints.applicationsURL
        return commit(next: fresh ? endpoints.eventsURL : nil)
    }

    /// Every record of the batch is in the sink, and `next` acknowledges it: the records'
    /// sequence and invitations are committed together with `next`. The checkpoint to save
    /// before `next` is requested.
    mutating func batchCompleted(next: String) -> Checkpoint {
        commit(next: next)
    }

    private mutating func commit(next: String?) -> Checkpoint {
        if let next { eventsURL = next }
        committedSequence = live.sequence
        sequenceReserved = live.sequence + Self.sequenceBlock
        committedInvitations = live.openInvitations
        return checkpoint
    }

    /// The checkpoint to save before the record numbered `number` reaches the sink, when the
    /// number is above the reservation on disk (more records in a batch than the reservation of
    /// its start); nil: nothing to save. It reserves further and differs from the last commit
    /// in that alone: the events URL, the sequence and the invitations move on at a batch's end.
    mutating func reservation(covering number: Int64) -> Checkpoint? {
        guard number > sequenceReserved else { return nil }
        sequenceReserved = number + Self.sequenceBlock
        return checkpoint
    }

    /// The checkpoint of a clean stop: the committed state, its reservation shrunk to the last
    /// number used, so a restart goes on without a gap (records written after the last commit
    /// keep their numbers: the next run starts above them).
    func closing() -> Checkpoint {
        snapshot(reservedUpTo: live.sequence)
    }

    /// The checkpoint of a clean stop that deleted the application (`DeleteOnStop=yes`): as
    /// `closing()`, without the application and its events URL; the sequence goes on.
    func closingWithoutApplication() -> Checkpoint {
        snapshot(reservedUpTo: live.sequence, keepingApplication: false)
    }
}

/// Records draw on the live part; a commit makes it the checkpoint's.
extension PersistedState: RecordLedger {
    mutating func nextSequence() -> Int64 {
        live.nextSequence()
    }

    mutating func track(_ resolved: ResolvedEvent, now: Int64) -> InvitationLifecycle {
        live.track(resolved, now: now)
    }

    mutating func forgetInvitations() {
        live.forgetInvitations()
    }
}
