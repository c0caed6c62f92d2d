/// A link as it appears in an event (`link`, `in`) or a sender: a rel, an href kept exactly as
/// sent (relative hrefs are resolved later against `baseuri` or the request URL), and an
/// optional title (display names; user-controlled).
public struct UCWALink: Sendable, Equatable, Hashable {
    /// The rel as sent, prefix included; compare with `name`.
    public var rel: String
    public var href: String
    public var title: String?

    public init(rel: String, href: String, title: String? = nil) {
        self.rel = rel
        self.href = href
        self.title = title
    }

    /// The rel without an `ms:rtc:saas:` or `service:` prefix.
    public var name: Substring { UCWARel.name(rel) }
}
