import Testing

@testable import Eventd
@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

/// Invitation resources: embedded when the server sends them, else fetched, in event order.
@Suite struct ResolverTests {
    static let linkOnly = SimulatorOptions(embedResources: false)

    @Test func embeddedResourcesNeedNoGET() async throws {
        let harness = try await Harness()
        await harness.simulator.play(InvitationScript(subject: "Embedded"))
        harness.startChannel()
        let events = try await harness.waitForEvents(3)
        #expect(events.map(\.resolution) == [.embedded, .embedded, .embedded])
        #expect(events[0].resource?.subject?.string == "Embedded")
        #expect(await harness.simulator.stats().requests.filter { $0.contains("participantInvitations") }.isEmpty)
        _ = await harness.stop()
    }

    @Test(arguments: [1, 8, 32])
    func linkOnlyEventsAreFetchedAndHandedOnInEventOrder(concurrency: Int) async throws {
        let harness = try await Harness(options: Self.linkOnly)
        // The first GET is slow: later results must wait for it.
        await harness.simulator.inject(.slowInvitation(.milliseconds(300)))
        var hrefs: [String] = []
        for index in 0..<10 {
            hrefs.append(
                await harness.simulator.play(InvitationScript(subject: "Invitation \(index)", withAlerting: false))
            )
        }
        harness.startChannel(concurrency: concurrency)
        let events = try await harness.waitForEvents(20)
        #expect(events.map(\.resolution) == Array(repeating: .fetched, count: 20))
        #expect(
            events.map(\.href) == hrefs.flatMap { [harness.simulator.baseURL + $0, harness.simulator.baseURL + $0] }
        )
        #expect(
            events.map { $0.resource?.subject?.string }
                == (0..<10).flatMap { ["Invitation \($0)", "Invitation \($0)"] }
        )
        #expect(await harness.simulator.stats().requests.filter { $0.contains("participantInvitations") }.count == 20)
        _ = await harness.stop()
    }

    @Test func aGoneInvitationKeepsTheLastStateSeen() async throws {
        // One event per batch: each GET sees the state of the event just sent; once the
        // completed event is out, the server has cleaned the invitation up (404).
        var options = Self.linkOnly
        options.maxEventsPerBatch = 1
        options.completedInvitationsGone = true
        let harness = try await Harness(options: options)
        await harness.simulator.play(InvitationScript(outcome: .connected))
        harness.startChannel(concurrency: 1)
        let events = try await harness.waitForEvents(3)
        #expect(events.map(\.resolution) == [.fetched, .fetched, .gone])
        #expect(lifecycle(events) == ["started:Connecting", "updated:Alerting", "completed:Alerting"])
        #expect(events[2].event.status?.string == "Success")
        _ = await harness.stop()
    }

    @Test func aGoneInvitationNeverSeenBeforeHasNoResource() async throws {
        let harness = try await Harness(options: Self.linkOnly)
        await harness.simulator.inject(.invitationStatus(404))
        await harness.simulator.play(InvitationScript(withStarted: false, withAlerting: false))
        harness.startChannel(concurrency: 1)
        let events = try await harness.waitForEvents(1)
        #expect(events[0].resolution == .gone)
        #expect(events[0].resource == nil)
        _ = await harness.stop()
    }

    @Test func aFailedGETIsRetried() async throws {
        let harness = try await Harness(options: Self.linkOnly)
        await harness.simulator.inject(.invitationStatus(500))
        await harness.simulator.play(InvitationScript(withStarted: false, withAlerting: false))
        harness.startChannel(concurrency: 1)
        let events = try await harness.waitForEvents(1)
        #expect(events[0].resolution == .fetched)
        #expect(await harness.simulator.stats().requests.filter { $0.contains("participantInvitations") }.count == 2)
        _ = await harness.stop()
    }

    @Test func aGETThatKeepsFailingIsFailedAndTheChannelGoesOn() async throws {
        let harness = try await Harness(options: Self.linkOnly)
        await harness.simulator.inject(.invitationStatus(500), times: 3)
        await harness.simulator.play(InvitationScript(withStarted: false, withAlerting: false))
        await harness.simulator.play(InvitationScript(withStarted: false, withAlerting: false))
        harness.startChannel(concurrency: 1)
        let events = try await harness.waitForEvents(2)
        #expect(events.map(\.resolution) == [.failed, .fetched])
        #expect(events[0].resource == nil)
        _ = await harness.stop()
    }

    @Test func eventsThatAreNotInvitationsPassThroughInOrder() async throws {
        let harness = try await Harness(options: Self.linkOnly)
        await harness.simulator.play(InvitationScript(withStarted: false, withAlerting: false))
        await harness.simulator.deliver(
            senderRel: "conversation",
            senderHref: "/ucwa/oauth/v1/applications/101/communication/conversations/1",
            event: .object([
                .init("link", .object([.init("rel", .string("participant")), .init("href", .string("/p/1"))])),
                .init("type", .string("added")),
            ])
        )
        harness.startChannel(concurrency: 4)
        let events = try await harness.waitForEvents(2)
        #expect(events.map(\.resolution) == [.fetched, .none])
        #expect(events[1].event.link.rel.string == "participant")
        _ = await harness.stop()
    }
}
