import CCurl
import Locking
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The multi handle and the thread that drives it. Other threads only put work into the inbox
/// (transfers, cancellations, resumptions, and the jobs of tasks that prefer this thread as
/// their executor) and wake the thread with `curl_multi_wakeup`; everything else happens on
/// the thread, whose turn is: take the inbox, run the jobs, `curl_multi_perform`, finish the
/// transfers that are done, sleep in `curl_multi_poll` unless the inbox filled meanwhile.
final class CurlLoop: @unchecked Sendable {
    private struct Inbox {
        var submitted: [Transfer] = []
        var cancelled: [UInt64] = []
        var resumed: [UInt64] = []
        var jobs: [UnownedJob] = []
        var stopping = false
        /// The thread has left its loop: jobs go to the global executor from then on.
        var exited = false

        var isEmpty: Bool { submitted.isEmpty && cancelled.isEmpty && resumed.isEmpty && jobs.isEmpty }

        /// Everything queued, leaving the inbox empty; once stopping, the thread leaves its loop
        /// with this, so later jobs go to the global executor.
        mutating func takeAll() -> Inbox {
            if stopping { exited = true }
            defer {
                submitted = []
                cancelled = []
                resumed = []
                jobs = []
            }
            return self
        }

        /// The jobs queued, unless stopping (the next `takeAll` hands them on).
        mutating func takeJobs() -> [UnownedJob] {
            guard !stopping else { return [] }
            defer { jobs = [] }
            return jobs
        }
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    /// Transfers on the multi handle, by the address of their easy handle. Thread-only.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    /// Cancellations that arrived before their submission. Thread-only.
    private var cancelledEarly: Set<UInt64> = []
    private var thread = pthread_t()
    private var started = false
    /// The loop thread's id once it runs (0 before): work put in by the thread itself needs no
    /// wakeup, the loop looks at the inbox again before it sleeps.
    private let loopThread = Atomic<UInt>(0)

    private var onLoop: Bool { loopThread.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Wakes the thread unless the caller is the thread.
    private func wake() {
        if !onLoop { curl_multi_wakeup(multi) }
    }

    init() {
        multi = curl_multi_init()
        _ = ucwa_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(
            &thread,
            nil,
            { context in
                let loop = Unmanaged<CurlLoop>.fromOpaque(context!).takeRetainedValue()
                loop.run()
                return nil
            },
            context
        )
        precondition(result == 0, "cannot start the HTTP client thread: pthread_create returned \(result)")
        started = true
    }

    func stop() {
        let already = inbox.withLock { inbox -> Bool in
            defer { inbox.stopping = true }
            return inbox.stopping
        }
        guard !already, started else { return }
        // Asked by a task running on the thread: it leaves its loop when that job returns, and
        // nobody joins it.
        if onLoop {
            pthread_detach(thread)
            return
        }
        curl_multi_wakeup(multi)
        pthread_join(thread, nil)
    }

    func submit(_ transfer: Transfer) {
        let refused = inbox.withLock { inbox -> Bool in
            if inbox.stopping { return true }
            inbox.submitted.append(transfer)
            return false
        }
        if refused {
            transfer.finish(.failure(CancellationError()))
            return
        }
        wake()
    }

    /// Continues a transfer paused by its `TransferFlow`.
    func resume(_ id: UInt64) {
        inbox.withLock { $0.resumed.append(id) }
        wake()
    }

    func cancel(_ id: UInt64) {
        inbox.withLock { $0.cancelled.append(id) }
        wake()
    }

    private func run() {
        loopThread.store(UInt(pthread_self()), ordering: .releasing)
        while true {
            let work = inbox.withLock { $0.takeAll() }
            if work.stopping {
                // Jobs still queued run on the global executor, as do any that come later.
                for job in work.jobs { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
                for transfer in work.submitted { transfer.finish(.failure(CancellationError())) }
                for (easy, transfer) in active {
                    curl_multi_remove_handle(multi, easy)
                    transfer.finish(.failure(CancellationError()))
                }
                active.removeAll()
                return
            }
            for transfer in work.submitted {
                if cancelledEarly.remove(transfer.id) != nil {
                    transfer.finish(.failure(CancellationError()))
                    continue
                }
                guard let easy = transfer.easy else { continue }
                active[easy] = transfer
                curl_multi_add_handle(multi, easy)
            }
            for id in work.resumed {
                if let easy = active.first(where: { $0.value.id == id })?.key {
                    _ = ucwa_curl_continue(easy)
                }
            }
            for id in work.cancelled {
                if let (easy, transfer) = active.first(where: { $0.value.id == id }) {
                    curl_multi_remove_handle(multi, easy)
                    active[easy] = nil
                    transfer.finish(.failure(CancellationError()))
                } else {
                    cancelledEarly.insert(id)
                }
            }

            // Tasks that prefer this thread, between libcurl's calls (never inside a callback),
            // and the jobs they queue in turn (a task resuming another), for a few rounds
            // before libcurl is called again (a task that keeps yielding cannot starve it).
            var jobs = work.jobs
            for round in 1...16 {
                for job in jobs {
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
                // What is left after the last round stays queued for the next turn.
                guard round < 16 else { break }
                jobs = inbox.withLock { $0.takeJobs() }
                if jobs.isEmpty { break }
            }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                if let transfer = active.removeValue(forKey: easy) {
                    complete(transfer, code: code)
                }
            }
            // Work the thread put in itself sent no wakeup: take it instead of sleeping.
            if !inbox.withLock({ $0.isEmpty }) { continue }
            // Sleep until a socket is ready, libcurl's next timer, or a wakeup. With nothing in
            // flight there is no timer: the thread sleeps until work arrives.
            var timeout: Int = -1
            curl_multi_timeout(multi, &timeout)
            let wait = timeout < 0 ? 3_600_000 : min(timeout, 3_600_000)
            curl_multi_poll(multi, nil, 0, Int32(wait), nil)
        }
    }

    private func complete(_ transfer: Transfer, code: CURLcode) {
        transfer.flow?.detach()
        if let error = transfer.consumerError {
            transfer.finish(.failure(error))
            return
        }
        let easy = transfer.easy!
        var status = 0
        ucwa_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        if code != CURLE_OK {
            let detail = String(cString: transfer.errorBuffer)
            if transfer.overLimit {
                transfer.finish(
                    .failure(
                        CurlClientError(
                            kind: .bodyTooLarge,
                            curlText: "response body larger than \(transfer.bufferLimit) bytes",
                            url: transfer.url.redacted,
                            status: status == 0 ? nil : status
                        )
                    )
                )
                return
            }
            transfer.finish(
                .failure(
                    CurlClientError(
                        kind: Self.kind(of: code),
                        curlCode: Int(code.rawValue),
                        curlText: String(cString: curl_easy_strerror(code)),
                        detail: detail,
                        url: transfer.url.redacted,
                        status: status == 0 ? nil : status
                    )
                )
            )
            return
        }
        var version = 0
        ucwa_curl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        transfer.finish(
            .success(
                CurlResponse(
                    status: status,
                    headers: transfer.headers,
                    body: transfer.body,
                    url: transfer.url.redacted,
                    httpMajorVersion: version >= CURL_HTTP_VERSION_2_0 ? 2 : 1
                )
            )
        )
    }

    static func kind(of code: CURLcode) -> CurlClientError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .unresolvedHost
        case CURLE_COULDNT_CONNECT: .connectFailed
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            .tlsVerification
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE:
            .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidURL
        default: .transport
        }
    }
}

/// Tasks that prefer this executor run on the loop's thread, between transfers: a task that
/// awaits a transfer is resumed where the transfer finished, with no hand-over to another thread.
extension CurlLoop: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let taken = inbox.withLock { inbox -> Bool in
            if inbox.exited { return false }
            inbox.jobs.append(job)
            return true
        }
        if taken {
            wake()
        } else {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }
}
