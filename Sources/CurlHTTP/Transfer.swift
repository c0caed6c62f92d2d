import CCurl

/// Type-erased body consumer, owned by one transfer and used only on the client's thread.
protocol BodySink: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer) throws
}

final class ConsumerBox<Consumer: HTTPBodyConsumer>: BodySink {
    var consumer: Consumer
    init(_ consumer: Consumer) { self.consumer = consumer }
    func consume(_ bytes: UnsafeRawBufferPointer) throws { try consumer.consume(bytes) }
}

/// One request in flight: its easy handle and everything the C callbacks fill in. Created on
/// the calling task, then touched only by the client's thread until it finishes; hence
/// `@unchecked Sendable`.
final class Transfer: @unchecked Sendable {
    let id: UInt64
    let request: CurlRequest
    let url: CurlURL
    /// 2xx bodies go here; nil: buffer them in `body` up to `bufferLimit`.
    let sink: (any BodySink)?
    let bufferLimit: Int
    let flow: TransferFlow?
    var continuation: CheckedContinuation<CurlResponse, any Error>?

    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    var status = 0
    var headers: [HTTPHeader] = []
    var body: [UInt8] = []
    var consumerError: (any Error)?
    var overLimit = false

    init(
        id: UInt64,
        request: CurlRequest,
        url: CurlURL,
        sink: (any BodySink)?,
        bufferLimit: Int,
        flow: TransferFlow? = nil
    ) {
        self.flow = flow
        self.id = id
        self.request = request
        self.url = url
        self.sink = sink
        self.bufferLimit = bufferLimit
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        if let easy { curl_easy_cleanup(easy) }
        errorBuffer.deallocate()
    }

    /// One header line from libcurl (status line, field, or the blank end line).
    func receiveHeader(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, line[end - 1] == 13 || line[end - 1] == 10 { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            // A new response (after 1xx or a proxy's CONNECT answer) starts over.
            headers.removeAll()
            let fields = text.split(separator: " ", maxSplits: 2)
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        } else if let colon = text.firstIndex(of: ":") {
            let name = String(text[..<colon])
            let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append(HTTPHeader(name, String(value)))
        }
    }

    /// One body chunk. Returns false to make libcurl abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200..<300).contains(status) {
            do {
                try sink.consume(bytes)
                // Whole chunk taken; if the far side is behind, stop reading further chunks
                // (libcurl allows pausing from inside the write callback).
                if let flow, let easy, flow.shouldPause() {
                    _ = ucwa_curl_pause_receiving(easy)
                }
                return true
            } catch {
                consumerError = error
                return false
            }
        }
        // Buffered: a whole small document, or the error document of a streamed request.
        let room = bufferLimit - body.count
        if bytes.count <= room {
            body.append(contentsOf: bytes)
            return true
        }
        if sink != nil {
            // An error document longer than we keep: the start is enough to read its code.
            body.append(contentsOf: bytes.prefix(room))
            return true
        }
        overLimit = true
        return false
    }

    func finish(_ result: Result<CurlResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}
