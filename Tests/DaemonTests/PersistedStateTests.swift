import Testing

@testable import Eventd
@testable import UCWA

/// The persisted state's owner: what each step of a run commits, and what a restart finds.
@Suite struct PersistedStateTests {
    static let application = "https://pool/ucwa/oauth/v1/applications/105"
    static let endpoints = ApplicationEndpoints(
        applicationURL: application,
        eventsURL: application + "/events?ack=1",
        applicationsURL: "https://pool/ucwa/oauth/v1/applications"
    )
    static let invitation = application + "/communication/participantInvitations/"

    /// A started participant invitation at `ordinal` of its batch.
    static func started(_ number: Int, ordinal: Int) -> ResolvedEvent {
        var resource = InvitationResource()
        resource.state = "Connecting"
        let event = UCWAEvent(
            sender: UCWALink(rel: "communication", href: "/c"),
            link: UCWALink(rel: "participantInvitation", href: UCWAText("/i/\(number)")),
            type: .started,
            embedded: .invitation(resource),
            position: .init(ordinal: ordinal, senderIndex: 0, eventIndex: ordinal)
        )
        return ResolvedEvent(event: event, href: invitation + "\(number)", resource: resource, resolution: .embedded)
    }

    /// The records of `events`, as the daemon's handler makes them from the batch at `batch`.
    static func records(
        _ events: [ResolvedEvent],
        batch: String,
        state: inout PersistedState,
        now: Int64 = 5
    ) -> [Record] {
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        return events.compactMap {
            builder.record(for: $0, application: application, batch: batch, now: now, ledger: &state)
        }
    }

    /// A state that resumes on `endpoints` after a run that committed `sequence`.
    static func resumed(sequence: Int64 = 10) -> PersistedState {
        var state = PersistedState(
            restoring: Checkpoint(
                endpointID: "e",
                applicationURL: application,
                applicationsURL: endpoints.applicationsURL,
                eventsURL: application + "/events?ack=3",
                sequence: sequence
            )
        )
        _ = state.opened(endpoints)
        return state
    }

    @Test func aBatchCommitsItsRecordsSequenceAndInvitationsTogetherWithItsNext() {
        var state = Self.resumed()
        let before = state.checkpoint
        #expect(before.eventsURL == Self.application + "/events?ack=3")
        let records = Self.records(
            [Self.started(1, ordinal: 0), Self.started(2, ordinal: 1)],
            batch: Self.application + "/events?ack=3",
            state: &state
        )
        #expect(records.map(\.sequence) == [11, 12])
        // Until the batch is complete, nothing of it is committed.
        #expect(state.checkpoint == before)
        let saved = state.batchCompleted(next: Self.application + "/events?ack=4")
        #expect(saved == state.checkpoint)
        #expect(saved.eventsURL == Self.application + "/events?ack=4")
        #expect(saved.sequence == 12)
        #expect(saved.sequenceReserved == 12 + PersistedState.sequenceBlock)
        #expect(saved.openInvitations == [Self.invitation + "1": 5, Self.invitation + "2": 5])
        #expect(saved.applicationURL == Self.application && saved.endpointID == "e")
    }

    @Test func aCleanStopShrinksTheReservationToTheLastNumberUsed() {
        var state = Self.resumed()
        _ = Self.records([Self.started(1, ordinal: 0)], batch: "b1", state: &state)
        _ = state.batchCompleted(next: Self.application + "/events?ack=4")
        // A record of a batch the stop did not let finish: its number stays used.
        _ = Self.records([Self.started(2, ordinal: 0)], batch: "b2", state: &state)
        let closing = state.closing()
        #expect(closing.sequence == 11)
        #expect(closing.sequenceReserved == 12)
        #expect(closing.firstFreeSequence == 12)
        #expect(closing.eventsURL == Self.application + "/events?ack=4")
        #expect(closing.openInvitations == [Self.invitation + "1": 5])
        #expect(PersistedState(restoring: closing).closing() == closing, "a stop right after a start leaves it as is")

        let deleted = state.closingWithoutApplication()
        #expect(deleted.applicationURL == nil && deleted.eventsURL == nil)
        #expect(deleted.applicationsURL == Self.endpoints.applicationsURL)
        #expect(deleted.sequence == 11 && deleted.sequenceReserved == 12)
    }

    /// A crash after the records of a batch reached the sink and before its checkpoint: the
    /// restart delivers the batch again, with the same record ids and numbers never used.
    @Test func aBatchDeliveredAgainAfterARestartKeepsItsRecordIDsWithNewNumbers() {
        var state = Self.resumed()
        let onDisk = state.checkpoint
        let batch = Self.application + "/events?ack=3&timeout=180"
        let events = [Self.started(1, ordinal: 0), Self.started(2, ordinal: 1)]
        let first = Self.records(events, batch: batch, state: &state)

        var restarted = PersistedState(restoring: onDisk)
        #expect(restarted.resume(on: Self.application) == (Self.application + "/events?ack=3", false))
        let opened = restarted.opened(Self.endpoints)
        #expect(opened.eventsURL == Self.application + "/events?ack=3", "the batch is requested again")
        let again = Self.records(events, batch: batch, state: &restarted)
        #expect(again.map(\.recordID) == first.map(\.recordID))
        #expect(Set(again.map(\.sequence)).isDisjoint(with: first.map(\.sequence)))
        #expect(again.allSatisfy { $0.sequence > onDisk.sequenceReserved })
    }

    @Test func aRecordBeyondTheReservationIsReservedOnDiskFirst() throws {
        var state = Self.resumed(sequence: 0)
        let committed = state.checkpoint
        #expect(committed.sequenceReserved == PersistedState.sequenceBlock)
        for _ in 0..<PersistedState.sequenceBlock {
            let number = state.nextSequence()
            let reservation = state.reservation(covering: number)
            #expect(reservation == nil)
        }
        let beyond = state.nextSequence()
        let reserved = state.reservation(covering: beyond)
        let reservation = try #require(reserved)
        #expect(reservation.sequenceReserved == beyond + PersistedState.sequenceBlock)
        #expect(reservation.sequence == committed.sequence && reservation.eventsURL == committed.eventsURL)
        let again = state.reservation(covering: beyond)
        #expect(again == nil, "reserved once")
    }

    @Test func anotherApplicationAtStartForgetsTheEventsURLAndTheOpenInvitations() {
        let saved = Checkpoint(
            endpointID: "e",
            applicationURL: Self.application + "-old",
            eventsURL: Self.application + "-old/events?ack=9",
            sequence: 4,
            openInvitations: ["https://pool/old/invitation": 1]
        )
        var state = PersistedState(restoring: saved)
        #expect(state.resume(on: Self.application) == (nil, true))
        #expect(state.applicationURL == Self.application + "-old", "named by the reset record")
        var builder = RecordBuilder(account: "alice", filter: .participantInvitations)
        let record = builder.record(
            for: Self.started(1, ordinal: 0),
            application: Self.application,
            batch: "b",
            now: 7,
            ledger: &state
        )
        #expect(record?.startedAt != nil && record?.sequence == 5)
        let opened = state.opened(Self.endpoints)
        #expect(opened.applicationURL == Self.application)
        #expect(opened.eventsURL == Self.endpoints.eventsURL)
        #expect(opened.openInvitations == [Self.invitation + "1": 7])

        var same = PersistedState(restoring: saved)
        #expect(same.resume(on: Self.application + "-old") == (Self.application + "-old/events?ack=9", false))
        #expect(
            same.opened(
                ApplicationEndpoints(
                    applicationURL: Self.application + "-old",
                    eventsURL: Self.application + "-old/events?ack=1",
                    applicationsURL: ""
                )
            ).eventsURL == Self.application + "-old/events?ack=9",
            "the saved events URL is kept"
        )
    }
}
