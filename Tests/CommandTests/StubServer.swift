import Foundation
import UCWATestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server for the outage cases the simulator does not play: a server that
/// accepts connections and never answers, a closed port, and a sign-in that sends the token
/// request to one of those. Answers are written by `respond` from the request line.
final class StubServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var held: [Int32] = []
    private var lines: [String] = []

    /// `respond`: the raw HTTP answer to a request line, or nil to hold the connection open
    /// without a word.
    init(respond: @escaping @Sendable (String) -> String? = { _ in nil }) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                let line = Self.readRequestLine(connection)
                lock.withLock { lines.append(line) }
                if let answer = respond(line) {
                    _ = Array(answer.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                    close(connection)
                } else {
                    lock.withLock { held.append(connection) }
                }
            }
        }
    }

    /// Request lines seen so far ("GET /path HTTP/1.1"), in order.
    var requests: [String] { lock.withLock { lines } }

    /// Waits until `count` requests arrived.
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(count) requests", timeout: timeout, poll: .milliseconds(10)) { requests.count >= count }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func shutdown() {
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        lock.withLock {
            for descriptor in held { close(descriptor) }
            held = []
        }
    }

    /// A port that refuses connections: bound (so that no other test's server gets it) but
    /// not listening. Keep the value alive while the port is in use.
    final class RefusingPort: @unchecked Sendable {
        let port: Int
        private let descriptor: Int32

        init() throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let descriptor = self.descriptor
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }
    }

    /// Reads a request's head (and a short body when it is already there); returns its first line.
    private static func readRequestLine(_ connection: Int32) -> String {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.contains(13) || String(decoding: head, as: UTF8.self).range(of: "\r\n\r\n") == nil {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { break }
            head += buffer[..<count]
        }
        return String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
    }

    /// An HTTP/1.1 answer with a body.
    static func answer(
        _ status: String,
        headers: [String] = [],
        body: String = "",
        contentType: String = "application/json"
    ) -> String {
        ([
            "HTTP/1.1 \(status)", "Content-Type: \(contentType)", "Content-Length: \(body.utf8.count)",
            "Connection: close",
        ] + headers)
        .joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// A sign-in that gets as far as the token request: the autodiscover root links the user
    /// resource, which answers 401 with a challenge whose token endpoint is `tokenURL`.
    static func signIn(tokenURL: String) throws -> StubServer {
        let box = PortBox()
        let server = try StubServer { line in
            if line.hasPrefix("GET /autodiscover") {
                return answer(
                    "200 OK",
                    body:
                        #"{"_links":{"self":{"href":"/autodiscover"},"user":{"href":"http://127.0.0.1:\#(box.port)/ucwa/user"}}}"#
                )
            }
            if line.hasPrefix("GET /ucwa/user") {
                return answer(
                    "401 Unauthorized",
                    headers: [
                        #"WWW-Authenticate: MsRtcOAuth href="\#(tokenURL)",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password""#
                    ],
                    body: "401",
                    contentType: "text/plain"
                )
            }
            return answer("404 Not Found")
        }
        box.port = server.port
        return server
    }

    final class PortBox: @unchecked Sendable {
        var port = 0
    }
}
