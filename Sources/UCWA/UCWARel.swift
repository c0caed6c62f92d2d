/// Link relations as UCWA servers send them.
///
/// UCWA rels are bare names (`participantInvitation`); the Trusted Application API prefixes
/// them with `ms:rtc:saas:`, and some discovery documents with `service:` (protocol notes §0).
/// Rels are compared by `name`, the rel without either prefix; `raw` keeps what was sent.
public enum UCWARel {
    /// The rel without an `ms:rtc:saas:` or `service:` prefix.
    public static func name(_ rel: String) -> Substring {
        if rel.hasPrefix("ms:rtc:saas:") { return rel.dropFirst(12) }
        if rel.hasPrefix("service:") { return rel.dropFirst(8) }
        return rel[...]
    }

    /// Whether two rels name the same relation once prefixes are dropped.
    public static func matches(_ rel: String, _ name: String) -> Bool {
        Self.name(rel) == Self.name(name)
    }

    /// Whether the rel names an invitation resource (its name ends in `Invitation`).
    public static func isInvitation(_ rel: String) -> Bool {
        let name = Self.name(rel)
        return name.count > 10 && name.hasSuffix("Invitation")
    }

    /// The rel without an `ms:rtc:saas:` or `service:` prefix (no copy).
    public static func name(_ rel: UCWAText) -> UCWAText {
        if rel.hasPrefix("ms:rtc:saas:") { return rel.dropFirst(12) }
        if rel.hasPrefix("service:") { return rel.dropFirst(8) }
        return rel
    }

    /// Whether the rel names an invitation resource (its name ends in `Invitation`).
    public static func isInvitation(_ rel: UCWAText) -> Bool {
        rel.withUTF8 { ByteMatching.isInvitationRel($0) }
    }
}
