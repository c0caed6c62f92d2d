/// What a record takes from the state that outlives it: its sequence number and, for an
/// invitation's lifecycle event, the invitation's first sighting. `RecordBuilder` asks and
/// reports; the ledger is the one owner of both. The daemon's is its persisted state, which
/// checkpoints them; `RecordCounters` keeps them in memory only (`replay`, tests, and the
/// persisted state's live part).
package protocol RecordLedger {
    /// The next sequence number: a number names one record, ever.
    mutating func nextSequence() -> Int64
    /// Notes the lifecycle event of `resolved` among the open invitations; its lifecycle.
    mutating func track(_ resolved: ResolvedEvent, now: Int64) -> InvitationLifecycle
    /// The channel goes on with another application: the open invitations are not ours.
    mutating func forgetInvitations()
}

/// A ledger that persists nothing: numbers from `sequence + 1` on, open invitations in memory.
package struct RecordCounters: RecordLedger, Sendable, Equatable {
    /// The last sequence number given out.
    package private(set) var sequence: Int64
    /// Invitation href → first sighting, microseconds since 1970.
    package private(set) var openInvitations: [String: Int64]

    package init(sequence: Int64 = 0, openInvitations: [String: Int64] = [:]) {
        self.sequence = sequence
        self.openInvitations = openInvitations
    }

    package mutating func nextSequence() -> Int64 {
        sequence += 1
        return sequence
    }

    package mutating func track(_ resolved: ResolvedEvent, now: Int64) -> InvitationLifecycle {
        InvitationLifecycle.track(resolved, now: now, open: &openInvitations)
    }

    package mutating func forgetInvitations() {
        openInvitations.removeAll()
    }
}
