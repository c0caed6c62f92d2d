import CurlHTTP
import Eventd
import Foundation
import Testing
import UCWA

/// TLS against a real TLS server on loopback (`openssl s_server`) with a CA and certificates
/// that the test generates.
@Suite(.serialized) struct TLSTests {
    /// A throwaway CA, a server certificate for `names`, and `openssl s_server -www` using it.
    /// Children are started with posix_spawn and reaped with waitpid (Foundation's Process
    /// spins forever in waitUntilExit when called from a test task here).
    final class TLSServer {
        let directory: String
        let port: Int
        let pid: pid_t
        var caFile: String { directory + "/ca.pem" }
        var url: String { "https://127.0.0.1:\(port)/" }

        enum Program {
            /// `openssl s_server -www`: HTTP/1.0, one status page.
            case openssl
            /// `nghttpd`: HTTP/2 over TLS (ALPN h2), serving `index.html`.
            case nghttpd
        }

        init(names: String, program: Program = .openssl) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("ucwa-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            let script = """
                cd '\(directory)' && \
                openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 1 -subj '/CN=ucwa-eventd test CA' && \
                openssl req \(ec) -keyout server.key -out server.csr -subj '/CN=ucwa-eventd test server' && \
                printf 'subjectAltName=\(names)\\n' > san.ext && \
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext
                """
            let status = try Self.wait(Self.spawn(["/bin/sh", "-c", "(" + script + ") >/dev/null 2>&1"]))
            guard status == 0 else { throw TLSSetupFailed(what: "certificate generation exited with \(status)") }
            // Below the kernel's ephemeral range (32768–60999): the suite's other loopback
            // servers and every client connection take ports from there, and one of them
            // holding this port made s_server exit at once (a 20 s wait, then a failure).
            port = Int.random(in: 20_000...32_000)
            switch program {
            case .openssl:
                pid = try Self.spawn([
                    "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)",
                    "-cert", directory + "/server.pem", "-key", directory + "/server.key", "-www", "-quiet",
                ])
            case .nghttpd:
                try "served over HTTP/2\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
                pid = try Self.spawn([
                    "/usr/sbin/nghttpd", "--address=127.0.0.1", "-d", directory, String(port),
                    directory + "/server.key", directory + "/server.pem",
                ])
            }
        }

        /// Waits until the server accepts connections.
        func ready() async throws {
            let client = HTTPClient(configuration: .init(caFile: caFile))
            defer { client.shutdown() }
            // Up to 20 s: openssl starts slowly on a loaded machine.
            for _ in 0..<400 {
                do {
                    _ = try await client.execute(HTTPRequest(url: url))
                    return
                } catch let error as HTTPClientError where error.kind == .connectFailed {
                    try await Task.sleep(for: .milliseconds(50))
                } catch is HTTPClientError {
                    return  // listening; the handshake failing is what some tests want
                }
            }
            Issue.record("openssl s_server did not start on port \(port)")
        }

        func stop() {
            kill(pid, SIGKILL)
            _ = try? Self.wait(pid)
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// Starts a child with stdio on /dev/null and an empty signal mask (a test task's
        /// thread may block signals, and a child inherits that mask).
        static func spawn(_ arguments: [String]) throws -> pid_t {
            var pid: pid_t = 0
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var empty = sigset_t()
            sigemptyset(&empty)
            posix_spawnattr_setsigmask(&attributes, &empty)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
            let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
            guard result == 0 else { throw TLSSetupFailed(what: "posix_spawn \(arguments[0]): errno \(result)") }
            return pid
        }

        static func wait(_ pid: pid_t) throws -> Int32 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw TLSSetupFailed(what: "waitpid: errno \(errno)") }
            }
            return (status >> 8) & 0xFF
        }
    }

    struct TLSSetupFailed: Error {
        var what: String
    }

    @Test func verificationPassesWithTheCAFile() async throws {
        let server = try TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = HTTPClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let response = try await client.execute(HTTPRequest(url: server.url))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self).contains("Ciphers"))
    }

    @Test func http2IsUsedWhenTheServerOffersIt() async throws {
        let server = try TLSServer(names: "DNS:localhost,IP:127.0.0.1", program: .nghttpd)
        defer { server.stop() }
        try await server.ready()
        let client = HTTPClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let response = try await client.execute(HTTPRequest(url: server.url + "index.html"))
        #expect(response.status == 200)
        #expect(response.httpMajorVersion == 2)
        #expect(String(decoding: response.body, as: UTF8.self) == "served over HTTP/2\n")
    }

    @Test func verificationFailsClearlyWithoutTheCAFileAndIsNotRetried() async throws {
        let server = try TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = HTTPClient()
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: server.url))
        }
        #expect(error?.kind == .tlsVerification)
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("certificate") == true, "\(error?.description ?? "")")
        #expect(error?.url == server.url)
    }

    @Test func aCertificateForAnotherNameIsRefusedEvenWithTheCAFile() async throws {
        let server = try TLSServer(names: "DNS:other.example")
        defer { server.stop() }
        try await server.ready()
        let client = HTTPClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: server.url))
        }
        #expect(error?.kind == .tlsVerification)
    }

    @Test func anUntrustedServerStopsSignInWithoutFallingBackToPlainHTTP() async throws {
        let server = try TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = HTTPClient()
        defer { client.shutdown() }
        let session = Session(
            client: client,
            settings: SessionMachine.Settings(discoverURL: server.url, username: "a@contoso.com", userAgent: "t", endpointID: "e", culture: "en-US"),
            credentials: Credentials(username: "a@contoso.com", password: "x"),
            policy: RetryPolicy(initialDelay: .milliseconds(10), maximumAttempts: 3),
            logger: Harness.quiet)
        let clock = ContinuousClock()
        let started = clock.now
        // Not retried (a certificate problem does not pass by waiting), and no http:// attempt:
        // the error is the TLS failure itself, for the https URL.
        let error = await #expect(throws: HTTPClientError.self) { _ = try await session.bootstrap() }
        #expect(error?.kind == .tlsVerification)
        #expect(error?.url.hasPrefix("https://") == true)
        #expect(clock.now - started < .seconds(5))
    }
}
