import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON
@testable import UCWA
@testable import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol, received on a datagram socket of the test's own
/// (`$NOTIFY_SOCKET`), and SIGHUP.
@Suite struct NotifyTests {
    /// A bound AF_UNIX datagram socket collecting notifications.
    final class NotifySocket: @unchecked Sendable {
        let path: String
        let descriptor: Int32

        init(directory: String) {
            path = directory + "/notify.sock"
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(path.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
        }

        private let lock = NSLock()
        private var kept: [String] = []

        /// The messages that arrived since the last call.
        func drain() -> [String] {
            var messages: [String] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count <= 0 { break }
                messages.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
            lock.withLock { kept += messages }
            return messages
        }

        /// Every message received so far, in order.
        var received: [String] {
            _ = drain()
            return lock.withLock { kept }
        }

        deinit { close(descriptor) }
    }

    @Test func readyStatusWatchdogAndStoppingReachSystemd() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let socket = NotifySocket(directory: directory)
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"],
            directory: directory
        )
        await simulator.play(InvitationScript())
        try await simulator.waitForAcknowledged(3)
        // The long poll is parked now; the watchdog must keep coming from the channel's loop.
        try await Task.sleep(for: .milliseconds(900))
        var messages = socket.drain()
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0, "\(daemon.stderr)")
        messages += socket.drain()
        let ready = messages.firstIndex { $0.contains("READY=1") }
        #expect(ready != nil, "\(messages)")
        #expect(messages.contains { $0.contains("STATUS=polling; 4 records written") }, "\(messages)")
        #expect(
            messages.filter { $0.hasPrefix("WATCHDOG=1\nSTATUS=polling; 4 records written; last batch ") }.count >= 3,
            "\(messages)"
        )
        #expect(messages.last?.hasPrefix("STOPPING=1") == true, "\(messages)")
        await simulator.shutdown()
    }

    @Test func sighupReloadsTheOutputSettingsAndKeepsRunning() async throws {
        let simulator = try await UCWASimulator.start()
        let (directory, config) = try simulator.runConfiguration()
        let daemon = try ChildProcess(
            [TestPaths.binary("ucwa-eventd"), "run", "--config", config],
            directory: directory
        )
        try await daemon.waitForReady()
        try (String(contentsOfFile: config, encoding: .utf8) + "\n[Output]\nEvents=all\n").write(
            toFile: config,
            atomically: true,
            encoding: .utf8
        )
        daemon.signal(SIGHUP)
        try await waitAtMost(.seconds(10)) { daemon.stderr.contains("configuration reloaded") }
        #expect(daemon.stderr.contains("events=all"), "\(daemon.stderr)")
        await simulator.deliver(
            senderRel: "conversation",
            senderHref: "/c/1",
            event: .object([
                .init("link", .object([.init("rel", .string("participant")), .init("href", .string("/p/1"))])),
                .init("type", .string("added")),
            ])
        )
        try await simulator.waitForAcknowledged(1)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait() == 0)
        #expect(daemon.stdout.contains("\"event_name\":\"ucwa.event\""), "\(daemon.stdout)")
        await simulator.shutdown()
    }
}
