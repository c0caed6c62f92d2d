import Testing

@testable import UCWA

/// What the daemon's resolver and `replay` both start from: an event resolved from its body.
@Suite struct EmbeddedResolverTests {
    static func event(rel: UCWAText, href: UCWAText, embedded: InvitationResource? = nil) -> UCWAEvent {
        UCWAEvent(
            sender: UCWALink(rel: "communication", href: "/c"),
            link: UCWALink(rel: rel, href: href),
            type: .started,
            embedded: embedded.map { .invitation($0) },
            position: .init(ordinal: 0, senderIndex: 0, eventIndex: 0)
        )
    }

    @Test func anEmbeddedInvitationIsResolvedWithItsAbsoluteHref() {
        var resolver = EmbeddedResolver()
        var resource = InvitationResource()
        resource.state = "Connecting"
        let resolved = resolver.resolve(
            Self.event(rel: "participantInvitation", href: "/inv/1", embedded: resource),
            baseURL: "https://pool.example/ucwa/events"
        )
        #expect(resolved.href == "https://pool.example/inv/1")
        #expect(resolved.resolution == .embedded)
        #expect(resolved.resource?.state == "Connecting")
        #expect(resolved.base == "https://pool.example/ucwa/events")
    }

    @Test func anInvitationWithoutResourceKeepsItsHrefForAGet() {
        var resolver = EmbeddedResolver()
        let resolved = resolver.resolve(
            Self.event(rel: "ms:rtc:saas:messagingInvitation", href: "inv/2"),
            baseURL: "https://pool.example/ucwa/events"
        )
        #expect(resolved.href == "https://pool.example/ucwa/inv/2")
        #expect(resolved.resolution == .none)
        #expect(resolved.resource == nil)
    }

    @Test func otherEventsHaveNoHrefToResolve() {
        var resolver = EmbeddedResolver()
        let resolved = resolver.resolve(Self.event(rel: "participant", href: "/p"), baseURL: "https://pool.example/")
        #expect(resolved.href.isEmpty)
        #expect(resolved.resolution == .none)
        #expect(resolved.base == "https://pool.example/")
    }

    /// A body's late `baseuri` changes the base between events: each resolves against its own.
    @Test func aNewBaseIsUsedAtOnce() {
        var resolver = EmbeddedResolver()
        let event = Self.event(rel: "participantInvitation", href: "/inv/3")
        #expect(resolver.resolve(event, baseURL: "https://a.example/x").href == "https://a.example/inv/3")
        #expect(resolver.resolve(event, baseURL: "https://b.example/x").href == "https://b.example/inv/3")
    }
}
