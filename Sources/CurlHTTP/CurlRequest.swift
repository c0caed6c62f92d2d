/// One HTTP header line, as sent or as received (names compared case-insensitively).
package struct HTTPHeader: Sendable, Hashable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The time limits of one transfer. A long poll needs a total limit longer than the server's
/// own `timeout` and no low-speed limit (a parked poll sends nothing for minutes); every other
/// request gets the `standard` limits.
package struct HTTPTimeouts: Sendable, Hashable {
    /// Time to establish the TCP (and TLS) connection.
    var connect: Duration
    /// Abort when fewer than one byte per second arrives during this window; nil: never.
    var lowSpeedWindow: Duration?
    /// Abort the whole transfer after this long; nil: no limit.
    var total: Duration?

    init(connect: Duration, lowSpeedWindow: Duration?, total: Duration?) {
        self.connect = connect
        self.lowSpeedWindow = lowSpeedWindow
        self.total = total
    }

    /// Discovery, tokens, applications, resource GETs: 10 s to connect, 30 s without a byte,
    /// 60 s in all.
    static let standard = HTTPTimeouts(connect: .seconds(10), lowSpeedWindow: .seconds(30), total: .seconds(60))

    /// The event channel's P-GET: the server holds it up to `serverTimeout`, so the client waits
    /// that long plus `grace` before it calls the poll dead.
    package static func longPoll(serverTimeout: Duration, grace: Duration = .seconds(30)) -> HTTPTimeouts {
        HTTPTimeouts(connect: .seconds(10), lowSpeedWindow: nil, total: serverTimeout + grace)
    }
}

/// A request as the rest of the daemon sees it: no libcurl types.
package struct CurlRequest: Sendable {
    package enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
        case delete = "DELETE"
    }

    var method: Method
    /// Absolute `http` or `https` URL.
    package var url: String
    package var headers: [HTTPHeader]
    var body: [UInt8]?
    var timeouts: HTTPTimeouts

    package init(
        _ method: Method = .get,
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8]? = nil,
        timeouts: HTTPTimeouts = .standard
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}

/// A finished response. For a streamed transfer `body` holds only a non-2xx answer (the
/// error document, at most `CurlClient.errorBodyLimit` bytes); 2xx bodies went to the consumer.
package struct CurlResponse: Sendable {
    package var status: Int
    package var headers: [HTTPHeader]
    package var body: [UInt8]
    /// The URL that answered, without user name or password.
    var url: String
    /// 1 for HTTP/1.x, 2 for HTTP/2.
    var httpMajorVersion: Int

    init(status: Int, headers: [HTTPHeader], body: [UInt8], url: String, httpMajorVersion: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.httpMajorVersion = httpMajorVersion
    }

    /// Every value of the header `name` (case-insensitive), in arrival order.
    func headerValues(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    package func headerValue(_ name: String) -> String? { headerValues(name).first }

    package var isSuccess: Bool { (200..<300).contains(status) }
}

/// Receives a 2xx response body chunk by chunk on the client's transfer thread, as the bytes
/// arrive from the socket. Throwing aborts the transfer; `CurlClient.stream` rethrows the error.
package protocol HTTPBodyConsumer {
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws
}
