/// How an invitation event's resource was obtained (the record's `resolution`).
package enum Resolution: String, Sendable, Hashable {
    /// From the event's `_embedded`.
    case embedded
    /// By `GET link.href`.
    case fetched
    /// The GET answered 404/410: the resource is gone; the last state seen for it is used.
    case gone
    /// The GET kept failing; the event goes on without a resource.
    case failed
    /// Not an invitation: nothing to resolve.
    case none
}

/// An event and its invitation resource.
package struct ResolvedEvent: Sendable {
    package var event: UCWAEvent
    /// The invitation's absolute href (empty when the event is not an invitation).
    package var href: String
    package var resource: InvitationResource?
    package var resolution: Resolution
    /// The absolute URL the event's and the resource's relative hrefs resolve against: the
    /// body's `baseuri`, else the URL of the request that brought the body (for a fetched
    /// resource, the URL it was fetched from). Empty: `href` serves as the base.
    package var base: String

    package init(
        event: UCWAEvent,
        href: String,
        resource: InvitationResource?,
        resolution: Resolution,
        base: String = ""
    ) {
        self.event = event
        self.href = href
        self.resource = resource
        self.resolution = resolution
        self.base = base
    }
}
