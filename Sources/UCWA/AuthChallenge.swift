/// The `MsRtcOAuth` challenge of a 401 (protocol notes §1.3): where to get a token and which
/// grant types the server takes.
///
/// Servers send several `WWW-Authenticate` headers (a `Bearer` one first); `href` may be quoted
/// or not; `grant_type` is a comma-separated list inside quotes. Parameter names are matched
/// case-insensitively, unknown parameters are ignored.
public struct AuthChallenge: Sendable, Equatable {
    public var href: String
    public var grantTypes: [String]

    public init(href: String, grantTypes: [String]) {
        self.href = href
        self.grantTypes = grantTypes
    }

    /// Whether the server takes a user name and password.
    public var acceptsPassword: Bool { grantTypes.contains("password") }

    /// The first `MsRtcOAuth` challenge among the values of every `WWW-Authenticate` header.
    public static func find(in headerValues: [String]) -> AuthChallenge? {
        for value in headerValues {
            if let challenge = parse(value) { return challenge }
        }
        return nil
    }

    /// Parses one header value; nil unless it is an `MsRtcOAuth` challenge with an `href`.
    public static func parse(_ value: String) -> AuthChallenge? {
        var rest = Substring(value).drop { $0 == " " || $0 == "\t" }
        let scheme = rest.prefix { $0 != " " && $0 != "\t" }
        guard scheme.lowercased() == "msrtcoauth" else { return nil }
        rest = rest.dropFirst(scheme.count)
        var parameters: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard !rest.isEmpty else { break }
            let name = rest.prefix { $0 != "=" && $0 != "," && $0 != " " }
            rest = rest.dropFirst(name.count).drop { $0 == " " }
            guard rest.first == "=" else { continue }
            rest = rest.dropFirst().drop { $0 == " " }
            var parameterValue = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        parameterValue.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        parameterValue.append(character)
                    }
                }
            } else {
                // Unquoted: up to the next comma (an href has none) or whitespace.
                let token = rest.prefix { $0 != "," && $0 != " " && $0 != "\t" }
                parameterValue = String(token)
                rest = rest.dropFirst(token.count)
            }
            parameters[name.lowercased()] = parameterValue
        }
        guard let href = parameters["href"], !href.isEmpty else { return nil }
        let grants = (parameters["grant_type"] ?? "")
            .split(separator: ",")
            .map { String($0.trimmingSpaces) }
            .filter { !$0.isEmpty }
        return AuthChallenge(href: href, grantTypes: grants)
    }
}
