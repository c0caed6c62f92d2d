/// Lifecycle state of invitations across events and restarts: when each was first seen, so a
/// `completed` record carries `started_at` and `duration_ms` (pure; the daemon keeps `open` in
/// the checkpoint).
///
/// `completed` without an earlier sighting and `updated` for an unseen invitation are normal
/// (the server coalesces events): the first sighting starts the clock; a `completed` seen first
/// carries neither `started_at` nor `duration_ms` rather than a made-up zero.
package struct InvitationTracker: Sendable, Equatable {
    /// href → first sighting, microseconds since 1970.
    package private(set) var open: [String: Int64]
    /// Most open invitations remembered; beyond it the oldest are forgotten.
    package var limit: Int

    package init(open: [String: Int64] = [:], limit: Int = 10_000) {
        self.open = open
        self.limit = limit
    }

    package struct Lifecycle: Sendable, Equatable {
        package var startedAt: Int64?
        package var durationMs: Int64?
        /// `success`, `failure` or `unknown`; completed events only.
        package var status: String?
    }

    package mutating func track(_ resolved: ResolvedEvent, now: Int64) -> Lifecycle {
        let href = resolved.href
        switch resolved.event.type {
        case .completed?:
            let started = open.removeValue(forKey: href)
            let status = Self.status(event: resolved.event.status?.string, state: resolved.resource?.state?.string)
            return Lifecycle(startedAt: started, durationMs: started.map { max(0, (now - $0) / 1000) }, status: status)
        default:
            if open[href] == nil {
                if open.count >= limit, let oldest = open.min(by: { $0.value < $1.value }) {
                    open[oldest.key] = nil
                }
                open[href] = now
            }
            return Lifecycle(startedAt: open[href], durationMs: nil, status: nil)
        }
    }

    /// The outcome of a completed invitation: the event's `status` when present, else derived
    /// from the resource's state (protocol notes §2.2, as Microsoft's own SDK does).
    package static func status(event: String?, state: String?) -> String {
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
    package static func eventStatus(_ status: String) -> String {
        switch status.lowercased() {
        case "success": "success"
        case "failure": "failure"
        default: UserText.sanitize(status)
        }
    }

    /// Forgets everything (a new application: its invitations are not ours).
    package mutating func reset() {
        open.removeAll()
    }
}
