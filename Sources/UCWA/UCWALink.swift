/// A link as it appears in an event (`link`, `in`) or a sender: a rel, an href kept exactly as
/// sent (relative hrefs are resolved later against `baseuri` or the request URL), and an
/// optional title (display names; user-controlled).
public struct UCWALink: Sendable, Equatable, Hashable {
    /// The rel as sent, prefix included; compare with `name`.
    public var rel: UCWAText
    public var href: UCWAText
    public var title: UCWAText?

    public init(rel: UCWAText, href: UCWAText, title: UCWAText? = nil) {
        self.rel = rel
        self.href = href
        self.title = title
    }

    /// The rel without an `ms:rtc:saas:` or `service:` prefix.
    public var name: UCWAText { UCWARel.name(rel) }
}
