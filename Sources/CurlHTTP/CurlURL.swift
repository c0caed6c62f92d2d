import CCurl
import Loopback

/// libcurl's own URL parser, so that what we check (scheme, host) is exactly what libcurl
/// will connect to.
struct CurlURL {
    var scheme: String
    var host: String
    /// The URL without user name and password, for messages.
    var redacted: String

    init?(_ text: String) {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, text, 0) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &value, 0) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        guard let scheme = part(CURLUPART_SCHEME)?.lowercased(), let host = part(CURLUPART_HOST) else { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        _ = curl_url_set(handle, CURLUPART_USER, nil, 0)
        _ = curl_url_set(handle, CURLUPART_PASSWORD, nil, 0)
        self.redacted = part(CURLUPART_URL) ?? "\(scheme)://\(host)"
    }

    /// Plain HTTP to this host never leaves the machine (`LoopbackHost`).
    var isLoopback: Bool { LoopbackHost.contains(host) }

    /// Redacts a URL for a message even when libcurl cannot parse it.
    static func redact(_ text: String) -> String {
        if let url = CurlURL(text) { return url.redacted }
        // Unparseable: keep at most the scheme and drop anything that may hold a credential.
        if let colon = text.firstIndex(of: ":") { return String(text[..<colon]) + ":(unparseable URL)" }
        return "(unparseable URL)"
    }
}
