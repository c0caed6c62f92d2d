/// A link as it appears in an event (`link`, `in`) or a sender: a rel, an href kept exactly as
/// sent (relative hrefs are resolved later against `baseuri` or the request URL), and an
/// optional title (display names; user-controlled).
public struct UCWALink: Sendable, Equatable, Hashable {
    // `href` before `rel`: the implicit memberwise initialiser, init(href:rel:title:), then
    // differs from the package one (in the extension below), which calls it; it builds the value
    // in one step, where a hand-written initialiser made the optimiser copy it once more (see
    // UCWAEvent).
    public var href: UCWAText
    /// The rel as sent, prefix included; compare with `name`.
    public var rel: UCWAText
    public var title: UCWAText?

    /// The rel without an `ms:rtc:saas:` or `service:` prefix.
    var name: UCWAText { UCWARel.name(rel) }
}

extension UCWALink {
    init(rel: UCWAText, href: UCWAText, title: UCWAText? = nil) {
        self.init(href: href, rel: rel, title: title)
    }
}
