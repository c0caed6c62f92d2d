import UCWA

/// Deterministic, realistic event-channel batches for benchmarks, fuzz seeds and tests.
///
/// Batches look like what a Lync/Skype for Business pool sends on a busy account: 1–50 events
/// spread over several sender blocks (communication, conversation, me, people; the same sender
/// may repeat), participant and messaging invitations with embedded resources and without,
/// completions with `status` and `reason`, participants with display names, and text with
/// non-ASCII characters and JSON escapes. The same seed always gives the same bytes.
package struct CorpusGenerator: Sendable {
    private var random: SplitMix64
    private var ack = 1
    private let application: String

    package init(seed: UInt64) {
        // Offset by SplitMix64's increment: the corpus files and fuzz seeds made so far keep
        // their bytes.
        random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        // Application ids are 11–12 digits on real pools (captures: 10165861200, 101017548935).
        application = "1010175\(10_000 + seed % 90_000)"
    }

    // MARK: Randomness

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    private mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }

    private mutating func chance(_ percent: Int) -> Bool {
        int(0...99) < percent
    }

    // MARK: Text

    static let names = [
        "Alice Martin", "Zoë Ng", "José Álvarez", "Søren Kierkegaard", "田中 太郎", "Ольга Петрова",
        "Nguyễn Văn An", "Anaïs Dubois", "Björn Ström", "Help Desk", "O'Brien, Seán", "Müller-Lüdenscheidt",
    ]
    /// Subjects as they appear on the wire, JSON escapes included.
    static let subjects = [
        "Quarterly review", "Printer on floor 3", "Re: \\\"urgent\\\" budget", "Caf\\u00e9 at 3?",
        "Line one\\nline two", "Déjà vu — agenda", "日本語の件名", "Release 2.0 \\/ rollout", "Standup 🚀",
        "Tab\\tseparated", "Κοινή σύσκεψη", "Reunião de equipe", "\\u00dcbersicht Q3",
    ]
    static let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]

    // MARK: Batches

    /// The next batch of 1–50 events.
    mutating func batch() -> [UInt8] {
        batch(events: int(1...50))
    }

    /// The next batch with exactly `events` events.
    mutating func batch(events: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events * 700 + 400)
        appendHead(&out)
        var remaining = events
        var firstSender = true
        while remaining > 0 {
            let inBlock = min(remaining, int(1...max(1, events / 2 + 1)))
            if !firstSender { out.append(UInt8(ascii: ",")) }
            firstSender = false
            appendSender(&out, events: inBlock)
            remaining -= inBlock
        }
        appendTail(&out)
        return out
    }

    /// Calls `write` with the pieces of one batch of `events` events, for batches too large to
    /// hold in memory (the 1 GiB benchmark). One sender block holds all events.
    mutating func streamBatch(events: Int, write: ([UInt8]) -> Void) {
        streamBatch(while: { index, _ in index < events }, write: write)
    }

    /// Calls `write` with the pieces of one batch of at least `bytes` bytes: events are added
    /// until the batch reaches that size.
    package mutating func streamBatch(bytes: Int, write: ([UInt8]) -> Void) {
        streamBatch(while: { _, written in written < bytes }, write: write)
    }

    private mutating func streamBatch(while more: (_ events: Int, _ written: Int) -> Bool, write: ([UInt8]) -> Void) {
        var out: [UInt8] = []
        appendHead(&out)
        append(
            &out,
            #"{"rel":"communication","href":"/ucwa/oauth/v1/applications/\#(application)/communication","events":["#
        )
        write(out)
        var written = out.count
        var index = 0
        while more(index, written) {
            out.removeAll(keepingCapacity: true)
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendEvent(&out, sender: "communication")
            write(out)
            written += out.count
            index += 1
        }
        out.removeAll(keepingCapacity: true)
        append(&out, "]}")
        appendTail(&out)
        write(out)
    }

    private mutating func appendHead(_ out: inout [UInt8]) {
        append(&out, #"{"_links":{"self":{"href":"/ucwa/oauth/v1/applications/\#(application)/events?ack=\#(ack)"},"#)
        ack += 1
        append(&out, #""next":{"href":"/ucwa/oauth/v1/applications/\#(application)/events?ack=\#(ack)"}},"sender":["#)
    }

    private mutating func appendTail(_ out: inout [UInt8]) {
        append(&out, "]}")
    }

    private mutating func appendSender(_ out: inout [UInt8], events: Int) {
        let sender = pick(["communication", "communication", "conversation", "conversation", "me", "people"])
        let href: String
        switch sender {
        case "conversation":
            href = "/ucwa/oauth/v1/applications/\(application)/communication/conversations/\(conversation())"
        case "me": href = "/ucwa/oauth/v1/applications/\(application)/me"
        case "people": href = "/ucwa/oauth/v1/applications/\(application)/people"
        default: href = "/ucwa/oauth/v1/applications/\(application)/communication"
        }
        append(&out, #"{"rel":"\#(sender)","href":"\#(href)","events":["#)
        for index in 0..<events {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendEvent(&out, sender: sender)
        }
        append(&out, "]}")
    }

    /// A GUID as conversation ids appear in live captures (`45c7e378-32fe-4709-b5ba-e5f913325f3e`).
    private mutating func conversation() -> String {
        let a = random.next()
        let b = random.next()
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
        }
        return
            "\(hex(a >> 32, 8))-\(hex(a >> 16 & 0xFFFF, 4))-\(hex(a & 0xFFFF, 4))-\(hex(b >> 48, 4))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
    }

    /// 32 hex digits, as UCWA's operationId and threadId samples (`74cb7404e0a247d5a2d4eb0376a47dbf`).
    private mutating func hex32() -> String {
        conversation().replacingDashes()
    }

    private mutating func appendEvent(_ out: inout [UInt8], sender: String) {
        switch sender {
        case "communication":
            if chance(65) {
                appendInvitationEvent(&out, rel: "participantInvitation")
            } else {
                appendInvitationEvent(&out, rel: "messagingInvitation")
            }
        case "conversation":
            let conv = "/ucwa/oauth/v1/applications/\(application)/communication/conversations/\(conversation())"
            let user = pick(Self.users)
            if chance(50) {
                append(
                    &out,
                    #"{"link":{"rel":"participant","href":"\#(conv)/participants/\#(user)@contoso.com","title":"\#(pick(Self.names))"},"in":{"rel":"participants","href":"\#(conv)/participants"},"type":"\#(pick(["added", "updated", "deleted"]))"}"#
                )
            } else {
                append(
                    &out,
                    #"{"link":{"rel":"message","href":"\#(conv)/messaging/messages/\#(int(1...9999))"},"status":"Success","type":"completed"}"#
                )
            }
        case "me":
            append(
                &out,
                #"{"link":{"rel":"presence","href":"/ucwa/oauth/v1/applications/\#(application)/me/presence"},"type":"updated"}"#
            )
        default:
            append(
                &out,
                #"{"link":{"rel":"contactPresence","href":"/ucwa/oauth/v1/applications/\#(application)/people/\#(pick(Self.users))@contoso.com/presence"},"type":"updated"}"#
            )
        }
    }

    private mutating func appendInvitationEvent(_ out: inout [UInt8], rel: String) {
        let id = conversation()
        let base = "/ucwa/oauth/v1/applications/\(application)/communication"
        let href = "\(base)/\(rel)s/\(id)"
        let type = pick(["started", "updated", "completed"])
        let failed = type == "completed" && chance(40)
        let state: String
        switch type {
        case "started": state = "Connecting"
        case "updated": state = pick(["Connecting", "Alerting"])
        default: state = failed ? pick(["Failed", "Declined", "Cancelled"]) : "Connected"
        }
        append(&out, #"{"link":{"rel":"\#(rel)","href":"\#(href)"}"#)
        if type == "completed" && chance(85) {
            append(&out, #","status":"\#(failed ? "Failure" : "Success")""#)
        }
        if failed {
            let reason = pick([
                ("RemoteFailure", "Declined", "Your invitation was declined."),
                ("RemoteFailure", "Timeout", "The invitation timed out \\u2014 no answer."),
                ("LocalFailure", "Canceled", "The invitation was canceled."),
                ("RemoteFailure", "Busy", "The person is \\\"busy\\\" right now."),
            ])
            append(&out, #","reason":{"code":"\#(reason.0)","subcode":"\#(reason.1)","message":"\#(reason.2)"}"#)
        }
        if chance(75) {
            let conv = "\(base)/conversations/\(conversation())"
            let user = pick(Self.users)
            append(
                &out,
                #","_embedded":{"\#(rel)":{"direction":"\#(pick(["Outgoing", "Incoming"]))","importance":"\#(pick(["Normal", "Normal", "Urgent"]))","#
            )
            append(&out, #""operationId":"\#(hex32())","state":"\#(state)","subject":"\#(pick(Self.subjects))","#)
            append(&out, #""threadId":"\#(hex32())","to":"sip:\#(user)@contoso.com","#)
            append(&out, #""_links":{"self":{"href":"\#(href)"},"conversation":{"href":"\#(conv)"},"#)
            append(
                &out,
                #""from":{"href":"\#(conv)/participants/\#(pick(Self.users))@contoso.com","title":"\#(pick(Self.names))"},"#
            )
            append(&out, #""cancel":{"href":"\#(href)/cancel"}},"rel":"\#(rel)"}}"#)
        }
        append(&out, #","type":"\#(type)"}"#)
    }

    private func append(_ out: inout [UInt8], _ text: String) {
        out.append(contentsOf: text.utf8)
    }
}

extension CorpusGenerator {
    /// A corpus of whole batches totalling at least `bytes` bytes.
    package static func corpus(bytes: Int, seed: UInt64 = 42) -> [[UInt8]] {
        var generator = CorpusGenerator(seed: seed)
        var batches: [[UInt8]] = []
        var total = 0
        while total < bytes {
            let batch = generator.batch()
            total += batch.count
            batches.append(batch)
        }
        return batches
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(unicodeScalars.filter { $0 != "-" })
    }
}
