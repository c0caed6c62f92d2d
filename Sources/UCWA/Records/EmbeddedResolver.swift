/// Resolves an event from its body alone, without a GET: an invitation event's href made
/// absolute against the body's base, with the resource the server embedded (`.embedded`), or
/// none (`.none`: the daemon's `Resolver` fetches it; `replay` prints the record without it);
/// any other event with no href and no resource. The daemon and `replay` share it, so that both
/// resolve the same body to the same records.
package struct EmbeddedResolver: Sendable {
    /// The base of the body in hand, parsed once for all its events.
    private var base: Href.Base?

    package init() {}

    /// `baseURL`: the body's `baseuri`, else the URL of the request that brought it.
    package mutating func resolve(_ event: UCWAEvent, baseURL: String) -> ResolvedEvent {
        guard UCWARel.isInvitation(event.link.rel) else {
            return ResolvedEvent(event: event, href: "", resource: nil, resolution: .none, base: baseURL)
        }
        if base?.url != baseURL { base = Href.Base(baseURL) }
        let href = base?.resolve(event.link.href.string) ?? event.link.href.string
        let resource = event.invitation
        return ResolvedEvent(
            event: event,
            href: href,
            resource: resource,
            resolution: resource != nil ? .embedded : .none,
            base: baseURL
        )
    }
}
