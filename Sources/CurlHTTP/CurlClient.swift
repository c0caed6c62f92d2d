import CCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's only HTTP client: one libcurl multi handle driven by one thread of its own.
///
/// Requests come from any task; each `await` ends when its transfer does. Connections are kept
/// alive and shared by every request (the long poll and the resolver's GETs alike), HTTP/2 is
/// used where the server offers it over TLS, TLS peers are always verified, and `http://` is
/// refused unless the host is loopback or `allowInsecureHTTP` is set. Cancelling the calling
/// task removes its transfer at once. Call `shutdown()` before the last reference goes away.
///
/// The thread is also a `TaskExecutor` (`taskExecutor`): tasks that prefer it run there between
/// libcurl's calls, and a request's task is resumed on the thread that finished the transfer.
package final class CurlClient: Sendable {
    package struct Configuration: Sendable {
        /// Extra trust anchors (PEM) used in addition to the system's store.
        var caFile: String?
        /// Allow `http://` to hosts that are not loopback (`AllowInsecureHTTP=yes`).
        var allowInsecureHTTP: Bool
        /// The `User-Agent` header of every request.
        var userAgent: String
        /// Where the system's trust anchors live, kept when `caFile` adds to them.
        var systemCAPath: String

        package init(
            caFile: String? = nil,
            allowInsecureHTTP: Bool = false,
            userAgent: String = "ucwa-eventd",
            systemCAPath: String = "/etc/ssl/certs"
        ) {
            self.caFile = caFile
            self.allowInsecureHTTP = allowInsecureHTTP
            self.userAgent = userAgent
            self.systemCAPath = systemCAPath
        }
    }

    /// The most bytes of an error document kept from a streamed request.
    static let errorBodyLimit = 64 * 1024

    let configuration: Configuration
    private let loop: CurlLoop
    private let nextID = Atomic<UInt64>(1)

    package init(configuration: Configuration = Configuration()) {
        _ = curlGlobalInit
        self.configuration = configuration
        self.loop = CurlLoop()
        loop.start()
    }

    /// The transfer thread as an executor: a task that prefers it is resumed on that thread when
    /// its transfer ends, instead of being handed to another thread.
    package var taskExecutor: any TaskExecutor { loop }

    /// Stops the transfer thread; transfers still running fail with `CancellationError`.
    package func shutdown() {
        loop.stop()
    }

    /// Sends a request and buffers the whole answer (at most `bodyLimit` bytes): for the small
    /// documents of discovery, tokens, applications and resources.
    package func execute(_ request: CurlRequest, bodyLimit: Int = 1 << 20) async throws -> CurlResponse {
        try await run(request, sink: nil, bufferLimit: bodyLimit)
    }

    /// Sends a request and hands a 2xx body to `consumer` chunk by chunk, on the transfer
    /// thread, as it arrives; nothing is buffered. Returns the response (its `body` holds a
    /// non-2xx answer only) and the consumer. An error thrown by the consumer aborts the
    /// transfer and is rethrown here unchanged.
    ///
    /// With a `flow`, receiving pauses while more than its high-water mark of items handed on
    /// by the consumer are waiting on the far side (back-pressure; see `TransferFlow`).
    package func stream<Consumer: HTTPBodyConsumer>(
        _ request: CurlRequest,
        into consumer: sending Consumer,
        flow: TransferFlow? = nil
    ) async throws -> (response: CurlResponse, consumer: Consumer) {
        let box = ConsumerBox(consumer)
        let response = try await run(request, sink: box, bufferLimit: Self.errorBodyLimit, flow: flow)
        return (response, box.consumer)
    }

    private func run(
        _ request: CurlRequest,
        sink: (any BodySink)?,
        bufferLimit: Int,
        flow: TransferFlow? = nil
    ) async throws -> CurlResponse {
        let url = try check(request.url)
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let transfer = Transfer(id: id, request: request, url: url, sink: sink, bufferLimit: bufferLimit, flow: flow)
        try configure(transfer)
        if let flow {
            let loop = self.loop
            flow.attach { loop.resume(id) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Refuses what must never be sent: not http(s), or plain HTTP off the machine.
    private func check(_ text: String) throws -> CurlURL {
        guard let url = CurlURL(text), url.scheme == "https" || url.scheme == "http" else {
            throw CurlClientError(kind: .invalidURL, curlText: "not an absolute http(s) URL", url: CurlURL.redact(text))
        }
        if url.scheme == "http", !url.isLoopback, !configuration.allowInsecureHTTP {
            throw CurlClientError(
                kind: .insecureURL,
                curlText:
                    "plain http:// to a host that is not loopback is refused (set AllowInsecureHTTP=yes to allow it)",
                url: url.redacted
            )
        }
        return url
    }

    private func configure(_ transfer: Transfer) throws {
        guard let easy = curl_easy_init() else {
            throw CurlClientError(kind: .transport, curlText: "curl_easy_init failed", url: transfer.url.redacted)
        }
        transfer.easy = easy
        let request = transfer.request
        var failed: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if code != CURLE_OK, failed == CURLE_OK { failed = code } }

        set(ucwa_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(ucwa_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = configuration.caFile {
            set(ucwa_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile))
            set(ucwa_curl_easy_setopt_string(easy, CURLOPT_CAPATH, configuration.systemCAPath))
        }
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPIDLE, 60))
        set(ucwa_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, configuration.userAgent))
        set(ucwa_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer))

        let timeouts = request.timeouts
        set(ucwa_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connect.milliseconds))
        if let total = timeouts.total {
            set(ucwa_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, total.milliseconds))
        }
        if let window = timeouts.lowSpeedWindow {
            set(ucwa_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1))
            set(ucwa_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, window.milliseconds / 1000)))
        }

        switch request.method {
        case .get:
            set(ucwa_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case .post:
            let body = request.body ?? []
            set(ucwa_curl_easy_setopt_long(easy, CURLOPT_POST, 1))
            set(ucwa_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies POSTFIELDSIZE bytes now: the array need not outlive this.
                let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)
                set(ucwa_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer))
            }
        case .delete:
            set(ucwa_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
        }

        var list: UnsafeMutablePointer<curl_slist>?
        // No "Expect: 100-continue" round trip on POST.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            list = curl_slist_append(list, line)
        }
        transfer.headerList = list
        set(ucwa_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        set(ucwa_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        set(ucwa_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        set(
            ucwa_curl_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
            }
        )
        set(
            ucwa_curl_easy_setopt_header_function(easy) { data, size, count, context in
                let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: length))
                return length
            }
        )
        if failed != CURLE_OK {
            throw CurlClientError(
                kind: .transport,
                curlCode: Int(failed.rawValue),
                curlText: String(cString: curl_easy_strerror(failed)),
                detail: "while setting up the request",
                url: transfer.url.redacted
            )
        }
    }
}

/// `curl_global_init` once per process, before the first handle (a lazy global is thread-safe).
private let curlGlobalInit: Void = {
    _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
}()

extension Duration {
    /// Whole milliseconds, rounded up, for libcurl's `long` options.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
