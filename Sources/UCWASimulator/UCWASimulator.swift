import NIOCore
import NIOHTTP1
import NIOPosix
import StreamingJSON
import Synchronization

/// A UCWA server on loopback for the tests, the benchmarks and `ucwa-eventd demo`.
///
/// It serves autodiscover (root and user, with redirect options), the MsRtcOAuth 401 challenge
/// and a password-grant token endpoint with expiring tokens, `POST applications`, the event
/// channel with real ack semantics (an unacknowledged batch is re-sent when its URL is asked for
/// again; `timeout` honoured, whatever its value; one pending GET per application: a newer one
/// releases the older with 409 `PGetReplaced`, as the protocol notes describe), and
/// participantInvitation resources whose lifecycles `play(_:)` walks. `inject(_:)` arms one-shot
/// faults. All state lives on one event loop.
package final class UCWASimulator: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let server: SimulatorServer
    /// Set by `shutdown()`: later calls answer at once instead of waiting on a stopped loop.
    private let stopped = Atomic<Bool>(false)

    /// The port the server listens on (127.0.0.1).
    let port: Int

    /// `http://127.0.0.1:<port>`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The autodiscover root, as `DiscoverURL=` takes it.
    package var discoverURL: String { baseURL + "/autodiscover/autodiscoverservice.svc/root" }

    /// Starts listening on `host:port` (port 0: any free port).
    package static func start(
        options: SimulatorOptions = SimulatorOptions(),
        host: String = "127.0.0.1",
        port: Int = 0
    ) async throws -> UCWASimulator {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let server = SimulatorServer(loop: loop, options: options)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler(server: server))
                    }
                }
                .bind(host: host, port: port)
                .get()
            let boundPort = channel.localAddress?.port ?? port
            try await loop.submit { server.baseURL = "http://\(host):\(boundPort)" }.get()
            return UCWASimulator(group: group, channel: channel, server: server, port: boundPort)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, server: SimulatorServer, port: Int) {
        self.group = group
        self.channel = channel
        self.server = server
        self.port = port
    }

    /// Stops listening and closes every connection.
    func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Arms a one-shot fault `times` times (`.revokeTokens` takes effect at once). All of them
    /// in one step of the server's loop: no request slips in between, so a client that polls
    /// without pause meets them back to back.
    package func inject(_ fault: SimulatorFault, times: Int = 1) async {
        guard !stopped.load(ordering: .acquiring) else { return }
        try? await server.loop.submit {
            for _ in 0..<times { self.server.inject(fault) }
        }.get()
    }

    /// Queues the events of one invitation's lifecycle on the live application (or the next one
    /// created); returns the invitation's href.
    @discardableResult
    package func play(_ script: InvitationScript) async -> String {
        guard !stopped.load(ordering: .acquiring) else { return "" }
        return (try? await server.loop.submit { self.server.play(script) }.get()) ?? ""
    }

    /// Queues one arbitrary event (`event` is the event object: link, type, …).
    func deliver(senderRel: String, senderHref: String, event: JSONValue) async {
        guard !stopped.load(ordering: .acquiring) else { return }
        try? await server.loop.submit {
            self.server.deliver(senderRel: senderRel, senderHref: senderHref, event: event)
        }.get()
    }

    /// What the server has seen so far.
    package func stats() async -> SimulatorStats {
        guard !stopped.load(ordering: .acquiring) else { return SimulatorStats() }
        return (try? await server.loop.submit { self.server.stats }.get()) ?? SimulatorStats()
    }

    /// Changes the options of a running server (affects later requests).
    package func update(_ change: @escaping @Sendable (inout SimulatorOptions) -> Void) async {
        guard !stopped.load(ordering: .acquiring) else { return }
        try? await server.loop.submit { change(&self.server.options) }.get()
    }
}
