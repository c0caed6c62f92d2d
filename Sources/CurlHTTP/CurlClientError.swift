/// Why a transfer failed, without any libcurl type: the curl code and its text, curl's own
/// detail message, the URL (never with credentials) and the HTTP status when one arrived.
package struct CurlClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable {
        /// The name did not resolve.
        case unresolvedHost
        /// TCP connect refused or unreachable.
        case connectFailed
        /// Connect, low-speed or total time limit.
        case timedOut
        /// The server's certificate or name failed verification; never retried over plain HTTP.
        case tlsVerification
        /// Any other TLS failure.
        case tls
        /// Connection dropped, partial body, protocol error and the like.
        case transport
        /// `http://` to a non-loopback host without `AllowInsecureHTTP=yes`.
        case insecureURL
        /// Not an absolute http(s) URL.
        case invalidURL
        /// A buffered body was larger than the caller allowed.
        case bodyTooLarge
    }

    package var kind: Kind
    /// The CURLcode, when libcurl reported the failure.
    var curlCode: Int?
    /// `curl_easy_strerror` of the code, or our own text.
    var curlText: String
    /// libcurl's error buffer (which host, which certificate problem), may be empty.
    var detail: String
    var url: String
    var status: Int?

    init(
        kind: Kind,
        curlCode: Int? = nil,
        curlText: String,
        detail: String = "",
        url: String,
        status: Int? = nil
    ) {
        self.kind = kind
        self.curlCode = curlCode
        self.curlText = curlText
        self.detail = detail
        self.url = url
        self.status = status
    }

    /// Worth retrying the same URL after a pause: the network or the server may recover.
    /// Configuration problems (bad URL, refused plain HTTP, untrusted certificate) are not.
    package var isRetryable: Bool {
        switch kind {
        case .unresolvedHost, .connectFailed, .timedOut, .transport, .tls: true
        case .tlsVerification, .insecureURL, .invalidURL, .bodyTooLarge: false
        }
    }

    package var description: String {
        var text = "\(url): \(curlText)"
        if let curlCode { text += " (curl error \(curlCode))" }
        if !detail.isEmpty, detail != curlText { text += ": \(detail)" }
        if let status { text += ", HTTP status \(status)" }
        return text
    }
}
