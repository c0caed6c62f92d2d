/// Where an invitation is in its life, as a record reports it: when it was first seen, so a
/// `completed` record carries `started_at` and `duration_ms`, and how it ended. Pure: the open
/// invitations it reads and updates belong to the state's owner (`RecordLedger`), which keeps
/// them across events and restarts.
///
/// `completed` without an earlier sighting and `updated` for an unseen invitation are normal
/// (the server coalesces events): the first sighting starts the clock; a `completed` seen first
/// carries neither `started_at` nor `duration_ms` rather than a made-up zero.
package struct InvitationLifecycle: Sendable, Equatable {
    var startedAt: Int64?
    var durationMs: Int64?
    /// `success`, `failure` or `unknown`; completed events only.
    var status: String?

    /// Most open invitations remembered; beyond it the oldest are forgotten.
    static let openLimit = 10_000

    /// The lifecycle of `resolved`'s event, noted in `open` (href → first sighting, microseconds
    /// since 1970): a first sighting is added, a completed invitation leaves.
    static func track(
        _ resolved: ResolvedEvent,
        now: Int64,
        open: inout [String: Int64],
        limit: Int = openLimit
    ) -> InvitationLifecycle {
        let href = resolved.href
        switch resolved.event.type {
        case .completed?:
            let started = open.removeValue(forKey: href)
            let status = status(event: resolved.event.status?.string, state: resolved.resource?.state?.string)
            return InvitationLifecycle(
                startedAt: started,
                durationMs: started.map { max(0, (now - $0) / 1000) },
                status: status
            )
        default:
            if open[href] == nil {
                if open.count >= limit, let oldest = open.min(by: { $0.value < $1.value }) {
                    open[oldest.key] = nil
                }
                open[href] = now
            }
            return InvitationLifecycle(startedAt: open[href], durationMs: nil, status: nil)
        }
    }

    /// The outcome of a completed invitation: the event's `status` when present, else derived
    /// from the resource's state (protocol notes §2.2, as Microsoft's own SDK does).
    static func status(event: String?, state: String?) -> String {
        switch event?.lowercased() {
        case "success": return "success"
        case "failure": return "failure"
        default: break
        }
        switch state {
        case "Connected": return "success"
        case "Failed", "Declined", "Cancelled": return "failure"
        default: return "unknown"
        }
    }

    /// An event's own `status`, as records write it: `success`, `failure`, or the sanitised
    /// text when it is neither (case as sent does not matter).
    static func eventStatus(_ status: String) -> String {
        switch status.lowercased() {
        case "success": "success"
        case "failure": "failure"
        default: UserText.sanitize(status)
        }
    }
}
