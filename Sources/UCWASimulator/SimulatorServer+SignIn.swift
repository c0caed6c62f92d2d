import NIOCore
import NIOHTTP1
import StreamingJSON

/// Sign-in on the simulated server: autodiscovery (with its optional pool redirects), the
/// password grant that issues bearer tokens, and the bearer check with its `MsRtcOAuth`
/// challenge.
extension SimulatorServer {
    /// `GET` on the autodiscovery root: its links, or a redirect to the second pool.
    func root(pool: String, responder: Responder) {
        let rootPath = "/autodiscover/autodiscoverservice.svc/root"
        if pool.isEmpty, options.redirectAutodiscover {
            let body = SimulatorDocuments.object([
                (
                    "_links",
                    SimulatorDocuments.links([
                        ("self", baseURL + rootPath), ("redirect", baseURL + "/pool2" + rootPath),
                    ])
                )
            ])
            responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            return
        }
        let body = SimulatorDocuments.object([
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", baseURL + pool + rootPath),
                    ("user", baseURL + pool + rootPath + "/oauth/user?originalDomain=contoso.com"),
                    ("xframe", baseURL + pool + "/Autodiscover/XFrame/XFrame.html"),
                ])
            )
        ])
        responder.send(status: 200, body: SimulatorDocuments.bytes(body))
    }

    /// `GET` on the autodiscovery user resource (bearer token required): the `applications`
    /// link, or a redirect to the second pool.
    func user(_ request: SimulatorRequest, pool: String, responder: Responder) {
        guard authorized(request, pool: pool, responder: responder) else { return }
        if pool.isEmpty, options.redirectUser {
            let body = SimulatorDocuments.object([
                (
                    "_links",
                    SimulatorDocuments.links([
                        ("self", baseURL + "/Autodiscover/AutodiscoverService.svc/root/oauth/user"),
                        ("redirect", baseURL + "/pool2/Autodiscover/AutodiscoverService.svc/root"),
                    ])
                )
            ])
            responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            return
        }
        let body = SimulatorDocuments.object([
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", baseURL + pool + "/Autodiscover/AutodiscoverService.svc/root/oauth/user"),
                    ("applications", baseURL + pool + "/ucwa/oauth/v1/applications"),
                    ("xframe", baseURL + pool + "/Autodiscover/XFrame/XFrame.html"),
                ])
            )
        ])
        responder.send(status: 200, body: SimulatorDocuments.bytes(body))
    }

    /// Checks the bearer token; answers 401 with the MsRtcOAuth challenge when it is missing,
    /// expired, revoked or from another pool.
    func authorized(_ request: SimulatorRequest, pool: String, responder: Responder) -> Bool {
        if let header = request.headers.first(name: "Authorization"), header.hasPrefix("Bearer "),
            let token = tokens[String(header.dropFirst(7))], token.pool == pool, NIODeadline.now() < token.expires
        {
            return true
        }
        let tokenURL = baseURL + pool + "/WebTicket/oauthtoken"
        let href = options.unquotedChallengeHref ? "href=\(tokenURL)" : "href=\"\(tokenURL)\""
        responder.send(
            status: 401,
            headers: [
                (
                    "WWW-Authenticate",
                    "Bearer trusted_issuers=\"00000001-0000-0000-c000-000000000000@contoso.com\", client_id=\"00000004-0000-0ff1-ce00-000000000000\""
                ),
                (
                    "WWW-Authenticate",
                    "MsRtcOAuth \(href),grant_type=\"urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password\""
                ),
            ],
            body: Array("<html><body>401 Unauthorized</body></html>".utf8),
            contentType: "text/html"
        )
        return false
    }

    /// `POST …/oauthtoken` with the password grant: a bearer token for the pool, or 400.
    func token(_ request: SimulatorRequest, pool: String, responder: Responder) {
        var form: [String: String] = [:]
        for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { Self.formDecode($0) }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == "password" else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.bytes(
                    SimulatorDocuments.object([("error", .string("unsupported_grant_type"))])
                )
            )
            return
        }
        guard form["username"] == options.username, form["password"] == options.password else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.bytes(SimulatorDocuments.object([("error", .string("invalid_grant"))]))
            )
            return
        }
        stats.tokensIssued += 1
        let value = "cwt=SIMTOKEN\(stats.tokensIssued)x\(Int.random(in: 100_000...999_999))"
        tokens[value] = Token(pool: pool, expires: .now() + TimeAmount(options.tokenLifetime))
        let lifetime = max(1, Int(options.tokenLifetime.components.seconds))
        let body = SimulatorDocuments.object([
            ("access_token", .string(value)), ("expires_in", .number(String(lifetime))),
            ("ms_rtc_identityscope", .string("local")), ("token_type", .string("Bearer")),
        ])
        responder.send(status: 200, headers: [("Cache-Control", "no-store")], body: SimulatorDocuments.bytes(body))
    }

    static func formDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
