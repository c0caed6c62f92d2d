import NIOCore
import NIOHTTP1

/// A request as the simulator's routes see it.
struct SimulatorRequest {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: [UInt8]

    var path: Substring { uri.split(separator: "?", maxSplits: 1).first ?? "" }

    /// The value of one query parameter, percent-decoding left out (the simulator's own
    /// parameters are plain).
    func query(_ name: String) -> String? {
        guard let mark = uri.firstIndex(of: "?") else { return nil }
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }
}

/// How a response body goes on the wire: normally, or with one of the transport faults.
enum WireMode {
    case normal
    case dropMidBody
    case stallMidBody
    case stallBeforeBody
    case oneByteChunks
}

/// Writes the answer to one request; may be kept (a parked long poll) and used later, always
/// on the channel's event loop (the simulator has one loop), hence `@unchecked Sendable`.
final class Responder: @unchecked Sendable {
    private let context: ChannelHandlerContext
    private let keepAlive: Bool
    private(set) var answered = false

    init(context: ChannelHandlerContext, keepAlive: Bool) {
        self.context = context
        self.keepAlive = keepAlive
    }

    var isOpen: Bool { context.channel.isActive }
    var channelID: ObjectIdentifier { ObjectIdentifier(context.channel) }

    func send(
        status: Int,
        headers extra: [(String, String)] = [],
        body: [UInt8],
        contentType: String = "application/json",
        mode: WireMode = .normal
    ) {
        guard !answered else { return }
        answered = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "X-MS-UcwaVersion", value: "2")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: status),
            headers: headers
        )
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        switch mode {
        case .normal:
            writeBody(body[...])
            finish()
        case .dropMidBody:
            writeBody(body.prefix(body.count / 2))
            context.flush()
            context.close(promise: nil)
        case .stallMidBody:
            writeBody(body.prefix(body.count / 2))
            context.flush()
        case .stallBeforeBody:
            context.flush()
        case .oneByteChunks:
            context.flush()
            writeOneByte(body[...])
        }
    }

    /// Streams a generated body: `produce` is asked for the next chunk each time the previous
    /// one is written, until it returns nil or the connection closes. Without a content length
    /// the body is chunked.
    func sendStream(status: Int, contentLength: Int?, produce: @escaping () -> [UInt8]?) {
        guard !answered else { return }
        answered = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let contentLength { headers.add(name: "Content-Length", value: String(contentLength)) }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        writeNext(ChunkSource(produce))
    }

    /// A generator used only on the channel's event loop.
    final class ChunkSource: @unchecked Sendable {
        let next: () -> [UInt8]?
        init(_ next: @escaping () -> [UInt8]?) { self.next = next }
    }

    private func writeNext(_ produce: ChunkSource) {
        guard context.channel.isActive else { return }
        guard let chunk = produce.next() else {
            finish()
            return
        }
        let buffer = context.channel.allocator.buffer(bytes: chunk)
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: promise)
        let loop = context.eventLoop
        promise.futureResult.whenComplete { [self] result in
            if case .success = result { loop.execute { self.writeNext(produce) } }
        }
    }

    private func writeBody(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
    }

    private func writeOneByte(_ rest: ArraySlice<UInt8>) {
        guard let first = rest.first else {
            finish()
            return
        }
        let buffer = context.channel.allocator.buffer(bytes: [first])
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: promise)
        // Continue from a fresh event-loop turn: a write that completes at once would otherwise
        // recurse once per byte (AddressSanitizer found the stack overflow).
        let loop = context.eventLoop
        promise.futureResult.whenComplete { [self] result in
            if case .success = result { loop.execute { self.writeOneByte(rest.dropFirst()) } }
        }
    }

    private func finish() {
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { [keepAlive] _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

/// The per-connection NIO handler: assembles a request and hands it to the server's routes.
final class SimulatorHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: SimulatorServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(server: SimulatorServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { body += bytes }
        case .end:
            guard let head else { return }
            self.head = nil
            let request = SimulatorRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
            server.handle(request, responder: Responder(context: context, keepAlive: head.isKeepAlive))
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        server.stats.connectionsAccepted += 1
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.connectionClosed(context.channel)
        context.fireChannelInactive()
    }
}
