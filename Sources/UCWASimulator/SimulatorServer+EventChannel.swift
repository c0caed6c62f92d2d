import NIOCore
import NIOHTTP1
import StreamingJSON

/// The event channel of the simulated server: long polls parked until events come, batches
/// formed from an application's queue and re-sent verbatim until acknowledged, hostile bodies
/// and the channel's faults.
extension SimulatorServer {
    /// A parked poll gets the queued events at once (invitation events are real-time).
    func releaseParkedPoll(of application: Application) {
        guard let parked = application.parked, parked.timer != nil, !application.queue.isEmpty else { return }
        application.parked = nil
        parked.timer?.cancel()
        let number = application.nextBatch
        let batch = formBatch(application, number: number)
        send(batch.body, to: parked.responder)
    }

    /// `GET …/events?ack=N`: acknowledges the batches before N, then answers batch N again if it
    /// was sent, else the next batch, else parks the poll until events come or its timeout ends;
    /// an ack out of range gets a `resync` link.
    func events(_ request: SimulatorRequest, applicationID: Int, responder: Responder) {
        guard let application = applications[applicationID], !application.gone else {
            responder.send(
                status: 404,
                body: SimulatorDocuments.error(
                    code: "NotFound",
                    subcode: "ApplicationNotFound",
                    message: "An error occurred. Please retry. If the problem persists, contact your support team."
                )
            )
            return
        }
        if takeFault(where: { $0 == .applicationGone }) != nil {
            retire(application)
            responder.send(
                status: 404,
                body: SimulatorDocuments.error(
                    code: "NotFound",
                    subcode: "ApplicationNotFound",
                    message: "An error occurred. Please retry. If the problem persists, contact your support team."
                )
            )
            return
        }
        if takeFault(where: { $0 == .applicationExpired }) != nil {
            retire(application)
            responder.send(
                status: 410,
                body: SimulatorDocuments.error(
                    code: "Gone",
                    subcode: "InactiveApplicationExpired",
                    message: "The application expired."
                )
            )
            return
        }
        if case .eventsStatus(let status, let retryAfter)? = takeFault(where: {
            if case .eventsStatus = $0 { true } else { false }
        }) {
            let headers = retryAfter.map { [("Retry-After", String($0))] } ?? []
            let code = status == 429 ? "TooManyRequests" : status == 503 ? "ServiceUnavailable" : "ServiceFailure"
            responder.send(
                status: status,
                headers: headers,
                body: SimulatorDocuments.error(code: code, message: "Simulated failure.")
            )
            return
        }
        guard let ackText = request.query("ack"), let ack = Int(ackText) else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.error(
                    code: "BadRequest",
                    subcode: "ParameterValidationFailure",
                    message: "ack is required."
                )
            )
            return
        }
        if let timeout = request.query("timeout").flatMap(Int.init) {
            application.timeoutSeconds = timeout
        }
        // Asking for batch N acknowledges every batch before it.
        for number in application.sent.keys where number < ack {
            let count = application.sent.removeValue(forKey: number)!.eventCount
            stats.eventsAcknowledged += count
            stats.eventsOutstanding -= count
            if count > 0 { stats.lastEventsAcknowledged = .now }
        }
        let firstKept =
            (Array(application.sent.keys) + application.hostile.keys.filter { $0 >= ack }).min()
            ?? application.nextBatch
        if options.resyncEveryPoll || takeFault(where: { $0 == .resync }) != nil || ack < firstKept
            || ack > application.nextBatch
        {
            let body = SimulatorDocuments.object([
                ("_links", SimulatorDocuments.links([("resync", application.eventsHref(ack: firstKept))]))
            ])
            responder.send(status: 200, body: SimulatorDocuments.bytes(body))
            return
        }
        application.hostile = application.hostile.filter { $0.key >= ack }
        if application.hostile[ack] == nil, application.sent[ack] == nil,
            case .hostileBody(let kind)? = takeFault(where: { if case .hostileBody = $0 { true } else { false } })
        {
            application.hostile[ack] = kind
        }
        if let kind = application.hostile[ack] {
            sendHostile(kind, application: application, ack: ack, to: responder)
            return
        }
        if var batch = application.sent[ack] {
            batch.sends += 1
            application.sent[ack] = batch
            stats.batchesResent += 1
            send(batch.body, to: responder)
            return
        }
        if !application.queue.isEmpty {
            send(formBatch(application, number: ack).body, to: responder)
            return
        }
        // Nothing to send: park the poll. A second pending poll releases the first with 409.
        if let old = application.parked {
            old.timer?.cancel()
            if old.responder.isOpen { stats.pollsReplaced += 1 }
            old.responder.send(
                status: 409,
                body: SimulatorDocuments.error(
                    code: "Conflict",
                    subcode: "PGetReplaced",
                    message: "The pending GET was replaced by a newer one."
                )
            )
        }
        var parked = ParkedPoll(responder: responder, channel: responder.channelID, timer: nil)
        if takeFault(where: { $0 == .silentPoll }) == nil {
            let seconds = application.timeoutSeconds
            parked.timer = loop.scheduleTask(in: .seconds(Int64(seconds))) { [self] in
                guard let current = application.parked, current.responder === responder else { return }
                application.parked = nil
                send(formBatch(application, number: ack).body, to: responder)
            }
        }
        application.parked = parked
    }

    /// A hostile batch, generated 64 KiB at a time. Its `next` link comes first, so a client
    /// can skip it after refusing it a few times; it is sent again while unacknowledged.
    private func sendHostile(_ kind: HostileBody, application: Application, ack: Int, to responder: Responder) {
        let head = Array(
            #"{"_links":{"self":{"href":"\#(application.eventsHref(ack: ack))"},"next":{"href":"\#(application.eventsHref(ack: ack + 1))"}},"sender":["#
                .utf8
        )
        // Re-requesting the URL gets the same hostile batch until it is acknowledged.
        application.nextBatch = max(application.nextBatch, ack + 1)
        var sentHead = false
        var produced = 0
        let chunk = 64 * 1024
        /// The head, `prefix`, then `count` copies of `byte`, 64 KiB at a time, never closed.
        func sendRepeated(_ byte: Unicode.Scalar, count: Int, after prefix: String) {
            var remaining = count
            let opening = head + Array(prefix.utf8)
            responder.sendStream(status: 200, contentLength: nil) {
                if !sentHead {
                    sentHead = true
                    return opening
                }
                guard remaining > 0 else { return nil }
                let count = min(chunk, remaining)
                remaining -= count
                return [UInt8](repeating: UInt8(ascii: byte), count: count)
            }
        }
        // Inside an embedded resource, where the decoder skips what it does not know.
        let embedded =
            #"{"rel":"communication","href":"/c","events":[{"link":{"rel":"participantInvitation","href":"/x/1"},"_embedded":{"participantInvitation":"#
        switch kind {
        case .deepNesting(let depth):
            sendRepeated("[", count: depth, after: embedded + #"{"unknown":"#)
        case .longString(let bytes):
            sendRepeated("a", count: bytes, after: embedded + #"{"subject":""#)
        case .endlessEvents(let total):
            let prefix = Array(#"{"rel":"conversation","href":"/c","events":["#.utf8)
            // One 64 KiB chunk of roster events, made once and sent over and over.
            var template: [UInt8] = []
            var ordinal = 0
            while template.count < chunk {
                ordinal += 1
                template += Array(#"{"link":{"rel":"participant","href":"/hostile/\#(ordinal)"},"type":"added"},"#.utf8)
            }
            responder.sendStream(status: 200, contentLength: total) {
                if !sentHead {
                    sentHead = true
                    produced = head.count + prefix.count
                    return head + prefix
                }
                if let total, produced >= total { return nil }
                var out = template
                if let total, produced + out.count > total { out = Array(out.prefix(total - produced)) }
                produced += out.count
                return out
            }
        }
    }

    /// Sends a batch, applying a pending transport fault.
    private func send(_ body: [UInt8], to responder: Responder) {
        var mode = WireMode.normal
        if takeFault(where: { $0 == .dropConnectionMidBody }) != nil {
            mode = .dropMidBody
        } else if takeFault(where: { $0 == .oneByteChunks }) != nil {
            mode = .oneByteChunks
        } else if takeFault(where: { $0 == .stallMidBody }) != nil {
            mode = .stallMidBody
        } else if takeFault(where: { $0 == .stallBeforeBody }) != nil {
            mode = .stallBeforeBody
        }
        responder.send(status: 200, body: body, mode: mode)
    }

    /// Takes up to `maxEventsPerBatch` queued events into batch `number` and remembers it until
    /// it is acknowledged. Consecutive events of one sender share a sender block.
    private func formBatch(_ application: Application, number: Int) -> SentBatch {
        let taken = application.queue.take(options.maxEventsPerBatch)
        if !taken.isEmpty, stats.firstEventsBatchFormed == nil { stats.firstEventsBatchFormed = .now }
        for item in taken {
            if let (id, state, completed) = item.invitation {
                invitations[id]?.state = state
                invitations[id]?.completed = completed
            }
        }
        let resume = takeFault(where: { $0 == .resume }) != nil
        if resume { application.timeoutSeconds = 180 }
        // Written straight from the events rendered when they were queued (a benchmark drains
        // 100 000 of them: the simulator must cost little next to the client it measures).
        var writer = JSONWriter(capacity: taken.reduce(256) { $0 + $1.rendered.count + 1 })
        writer.raw("{\"_links\":")
        // With a late baseuri, relative to it alone (see SimulatorOptions.lateBaseURI).
        let relative = { (href: String) in self.options.lateBaseURI ? String(href.dropFirst()) : href }
        writer.value(
            SimulatorDocuments.links([
                ("self", relative(application.eventsHref(ack: number))),
                (resume ? "resume" : "next", relative(application.eventsHref(ack: number + 1))),
            ])
        )
        writer.raw(",\"sender\":[")
        var open: (rel: String, href: String)?
        for item in taken {
            if let current = open, current.rel == item.senderRel, current.href == item.senderHref {
                writer.raw(",")
            } else {
                // Consecutive events of one sender share a sender block.
                writer.raw(open == nil ? "{\"rel\":" : "]},{\"rel\":")
                writer.string(item.senderRel)
                writer.raw(",\"href\":")
                writer.string(item.senderHref)
                writer.raw(",\"events\":[")
                open = (item.senderRel, item.senderHref)
            }
            writer.raw(item.rendered)
        }
        writer.raw(open == nil ? "]" : "]}]")
        if options.lateBaseURI {
            writer.raw(",\"baseuri\":")
            writer.string(baseURL)
        }
        writer.raw("}")
        var body = writer.bytes
        if !taken.isEmpty, takeFault(where: { $0 == .malformedBatch }) != nil {
            // A stray comma after the links: the next href is known, the rest is not JSON.
            let marker = Array(",\"sender\":[".utf8)
            if let range = body.firstRange(of: marker) {
                body.insert(UInt8(ascii: ","), at: range.upperBound)
            }
        }
        let batch = SentBatch(body: body, eventCount: taken.count)
        application.sent[number] = batch
        application.nextBatch = max(application.nextBatch, number + 1)
        return batch
    }
}
