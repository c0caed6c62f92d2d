import Foundation
import Testing
import UCWATestSupport

@testable import CurlHTTP
@testable import Eventd
@testable import UCWA

/// TLS against a real TLS server on loopback (`openssl s_server`) with a CA and certificates
/// that the test generates.
@Suite(.serialized) struct TLSTests {
    /// A throwaway CA, a server certificate for `names`, and `openssl s_server -www` using it.
    final class TLSServer {
        let directory: String
        let port: Int
        let server: ChildProcess
        var caFile: String { directory + "/ca.pem" }
        var url: String { "https://127.0.0.1:\(port)/" }

        enum Program {
            /// `openssl s_server -www`: HTTP/1.0, one status page.
            case openssl
            /// `nghttpd`: HTTP/2 over TLS (ALPN h2), serving `index.html`.
            case nghttpd
        }

        init(names: String, program: Program = .openssl) async throws {
            directory = TestPaths.temporaryDirectory("ucwa-tls")
            let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            let script = """
                cd '\(directory)' && \
                openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 1 -subj '/CN=ucwa-eventd test CA' && \
                openssl req \(ec) -keyout server.key -out server.csr -subj '/CN=ucwa-eventd test server' && \
                printf 'subjectAltName=\(names)\\n' > san.ext && \
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext
                """
            let status = try await ChildProcess(
                ["/bin/sh", "-c", "(" + script + ") >/dev/null 2>&1"],
                directory: directory
            ).wait()
            guard status == 0 else { throw TLSSetupFailed(what: "certificate generation exited with \(status)") }
            // Below the kernel's ephemeral range (32768–60999): the suite's other loopback
            // servers and every client connection take ports from there, and one of them
            // holding this port made s_server exit at once (a 20 s wait, then a failure).
            port = Int.random(in: 20_000...32_000)
            switch program {
            case .openssl:
                server = try ChildProcess(
                    [
                        "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)",
                        "-cert", directory + "/server.pem", "-key", directory + "/server.key", "-www", "-quiet",
                    ],
                    directory: directory
                )
            case .nghttpd:
                try "served over HTTP/2\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
                server = try ChildProcess(
                    [
                        "/usr/sbin/nghttpd", "--address=127.0.0.1", "-d", directory, String(port),
                        directory + "/server.key", directory + "/server.pem",
                    ],
                    directory: directory
                )
            }
        }

        /// Waits until the server accepts connections.
        func ready() async throws {
            let client = CurlClient(configuration: .init(caFile: caFile))
            defer { client.shutdown() }
            // Up to 20 s: openssl starts slowly on a loaded machine.
            for _ in 0..<400 {
                do {
                    _ = try await client.execute(CurlRequest(url: url))
                    return
                } catch let error as CurlClientError where error.kind == .connectFailed {
                    try await Task.sleep(for: .milliseconds(50))
                } catch is CurlClientError {
                    return  // listening; the handshake failing is what some tests want
                }
            }
            Issue.record("openssl s_server did not start on port \(port)")
        }

        func stop() {
            server.killIfRunning()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    struct TLSSetupFailed: Error {
        var what: String
    }

    @Test func verificationPassesWithTheCAFile() async throws {
        let server = try await TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = CurlClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let response = try await client.execute(CurlRequest(url: server.url))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self).contains("Ciphers"))
    }

    @Test func http2IsUsedWhenTheServerOffersIt() async throws {
        let server = try await TLSServer(names: "DNS:localhost,IP:127.0.0.1", program: .nghttpd)
        defer { server.stop() }
        try await server.ready()
        let client = CurlClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let response = try await client.execute(CurlRequest(url: server.url + "index.html"))
        #expect(response.status == 200)
        #expect(response.httpMajorVersion == 2)
        #expect(String(decoding: response.body, as: UTF8.self) == "served over HTTP/2\n")
    }

    @Test func verificationFailsClearlyWithoutTheCAFileAndIsNotRetried() async throws {
        let server = try await TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: server.url))
        }
        #expect(error?.kind == .tlsVerification)
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("certificate") == true, "\(error?.description ?? "")")
        #expect(error?.url == server.url)
    }

    @Test func aCertificateForAnotherNameIsRefusedEvenWithTheCAFile() async throws {
        let server = try await TLSServer(names: "DNS:other.example")
        defer { server.stop() }
        try await server.ready()
        let client = CurlClient(configuration: .init(caFile: server.caFile))
        defer { client.shutdown() }
        let error = await #expect(throws: CurlClientError.self) {
            _ = try await client.execute(CurlRequest(url: server.url))
        }
        #expect(error?.kind == .tlsVerification)
    }

    @Test func anUntrustedServerStopsSignInWithoutFallingBackToPlainHTTP() async throws {
        let server = try await TLSServer(names: "DNS:localhost,IP:127.0.0.1")
        defer { server.stop() }
        try await server.ready()
        let client = CurlClient()
        defer { client.shutdown() }
        let session = Session(
            client: client,
            settings: SessionMachine.Settings(
                discoverURL: server.url,
                username: "a@contoso.com",
                userAgent: "t",
                endpointID: "e",
                culture: "en-US"
            ),
            credentials: Credentials(username: "a@contoso.com", password: "x"),
            policy: RetryPolicy(initialDelay: .milliseconds(10), maximumAttempts: 3),
            logger: Harness.quiet
        )
        let clock = ContinuousClock()
        let started = clock.now
        // Not retried (a certificate problem does not pass by waiting), and no http:// attempt:
        // the error is the TLS failure itself, for the https URL.
        let error = await #expect(throws: CurlClientError.self) { _ = try await session.bootstrap() }
        #expect(error?.kind == .tlsVerification)
        #expect(error?.url.hasPrefix("https://") == true)
        #expect(clock.now - started < .seconds(5))
    }
}
