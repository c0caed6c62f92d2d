/// Link relations as UCWA servers send them.
///
/// UCWA rels are bare names (`participantInvitation`); the Trusted Application API prefixes
/// them with `ms:rtc:saas:`, and some discovery documents with `service:` (protocol notes §0).
/// Rels are compared by `name`, the rel without either prefix; links keep the rel as sent.
/// The prefix rule itself lives in one place, `ByteMatching.relName`.
public enum UCWARel {
    /// The rel without an `ms:rtc:saas:` or `service:` prefix (no copy).
    static func name(_ rel: UCWAText) -> UCWAText {
        let prefix = rel.withUTF8 { $0.count - ByteMatching.relName($0).count }
        return prefix == 0 ? rel : rel.dropFirst(prefix)
    }

    /// The rel without an `ms:rtc:saas:` or `service:` prefix, for rels read from documents.
    static func name(_ rel: String) -> String {
        name(UCWAText(rel)).string
    }

    /// Whether the rel names an invitation resource (its name ends in `Invitation`).
    public static func isInvitation(_ rel: UCWAText) -> Bool {
        rel.withUTF8 { ByteMatching.isInvitationRel($0) }
    }

    /// Whether the rel names an invitation resource (its name ends in `Invitation`).
    static func isInvitation(_ rel: String) -> Bool {
        isInvitation(UCWAText(rel))
    }
}
