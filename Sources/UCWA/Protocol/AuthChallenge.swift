/// The `MsRtcOAuth` challenge of a 401 (protocol notes §1.3): where to get a token and which
/// grant types the server takes.
///
/// Servers send several `WWW-Authenticate` headers (a `Bearer` one first); `href` may be quoted
/// or not; `grant_type` is a comma-separated list inside quotes. Parameter names are matched
/// case-insensitively, unknown parameters are ignored.
package struct AuthChallenge: Sendable, Equatable {
    package var href: String
    var grantTypes: [String]

    init(href: String, grantTypes: [String]) {
        self.href = href
        self.grantTypes = grantTypes
    }

    /// Whether the server takes a user name and password.
    var acceptsPassword: Bool { grantTypes.contains("password") }

    /// The first `MsRtcOAuth` challenge among the values of every `WWW-Authenticate` header.
    package static func find(in headerValues: [String]) -> AuthChallenge? {
        for value in headerValues {
            if let challenge = parse(value) { return challenge }
        }
        return nil
    }

    /// Parses one header value; nil unless it is an `MsRtcOAuth` challenge with an `href`.
    /// One header value may hold several challenges (RFC 9110 §11.6.1: `Bearer …, MsRtcOAuth …`,
    /// as a captured on-premises server sends them); the `MsRtcOAuth` one is found outside
    /// quoted strings.
    static func parse(_ value: String) -> AuthChallenge? {
        guard var rest = schemeStart(in: Substring(value)) else { return nil }
        rest = rest.dropFirst("MsRtcOAuth".count)
        var parameters: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard !rest.isEmpty else { break }
            let name = rest.prefix { $0 != "=" && $0 != "," && $0 != " " }
            rest = rest.dropFirst(name.count).drop { $0 == " " }
            // A token not followed by "=" starts the next challenge.
            guard rest.first == "=" else { break }
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

    /// Where the `MsRtcOAuth` scheme token starts: at the beginning, or after whitespace or a
    /// comma, outside quotes.
    static func schemeStart(in value: Substring) -> Substring? {
        var quoted = false
        var escaped = false
        var previous: Character = " "
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if quoted {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    quoted = false
                }
            } else if character == "\"" {
                quoted = true
            } else if previous == " " || previous == "," || previous == "\t" {
                let candidate = value[index...]
                if candidate.prefix(10).lowercased() == "msrtcoauth" {
                    let after = candidate.dropFirst(10).first
                    if after == nil || after == " " || after == "\t" { return candidate }
                }
            }
            previous = character
            index = value.index(after: index)
        }
        return nil
    }
}
