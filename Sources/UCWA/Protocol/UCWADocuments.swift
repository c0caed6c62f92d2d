import StreamingJSON

/// The `_links` of a resource document (root, user, application, …), looked up by rel name:
/// `ms:rtc:saas:` and `service:` prefixes are ignored, as everywhere in this module.
struct ResourceLinks: Sendable, Equatable {
    /// (rel as sent, href as sent), in document order.
    var links: [(rel: String, href: String)]

    static func == (lhs: ResourceLinks, rhs: ResourceLinks) -> Bool {
        lhs.links.map(\.rel) == rhs.links.map(\.rel) && lhs.links.map(\.href) == rhs.links.map(\.href)
    }

    init(_ document: JSONValue) {
        links = []
        guard let members = document["_links"]?.objectValue else { return }
        for member in members {
            // A multi-valued rel is an array of link objects; the first one is used.
            let link = member.value.arrayValue?.first ?? member.value
            if let href = link["href"]?.stringValue { links.append((member.key, href)) }
        }
    }

    /// The href of the first link whose rel name is `name`.
    func href(_ name: String) -> String? {
        links.first { UCWARel.name($0.rel) == name }?.href
    }
}

/// A successful answer of the OAuth token endpoint (protocol notes §1.3).
package struct TokenGrant: Sendable {
    /// The bearer token (`cwt=…`). Secret: never log or store it.
    package var accessToken: String
    /// Lifetime in seconds as the server gave it.
    package var expiresIn: Int

    init(accessToken: String, expiresIn: Int) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }

    /// Parses the token document; nil when `access_token` is missing.
    package static func parse(_ body: [UInt8]) -> TokenGrant? {
        guard let document = try? JSONValue.parse(body),
            let token = document["access_token"]?.stringValue, !token.isEmpty
        else { return nil }
        let lifetime =
            document["expires_in"]?.intValue ?? document["expires_in"]?.stringValue.flatMap { Int($0) } ?? 3600
        return TokenGrant(accessToken: token, expiresIn: lifetime)
    }
}

/// The error document of a synchronous UCWA error (protocol notes §4.1), or of the OAuth
/// endpoint (`{"error": "invalid_grant"}`).
package struct UCWAErrorBody: Sendable, Equatable {
    package var code: String
    package var subcode: String?
    package var message: String?

    init(code: String, subcode: String? = nil, message: String? = nil) {
        self.code = code
        self.subcode = subcode
        self.message = message
    }

    /// nil when the body is not a JSON error document (a proxy's HTML page, for example).
    package static func parse(_ body: [UInt8]) -> UCWAErrorBody? {
        guard let document = try? JSONValue.parse(body) else { return nil }
        if let code = document["code"]?.stringValue {
            return UCWAErrorBody(
                code: code,
                subcode: document["subcode"]?.stringValue,
                message: document["message"]?.stringValue
            )
        }
        if let error = document["error"]?.stringValue {
            return UCWAErrorBody(code: error, subcode: nil, message: document["error_description"]?.stringValue)
        }
        return nil
    }
}
