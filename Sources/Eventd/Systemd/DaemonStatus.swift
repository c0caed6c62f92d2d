import Locking

#if canImport(Glibc)
import Glibc
#endif

/// What `systemctl status` shows on its `Status:` line (`STATUS=`), kept true at all times.
///
/// The shell sets the phase as it changes (signing in, waiting to retry, polling, stopping);
/// a phase change sends `STATUS=` at once. Texts that age (the last batch "95 s ago", the next
/// try "in 12 s") are sent again on every heartbeat tick (`tick()`), in the same datagram as
/// `WATCHDOG=1`: half `WatchdogSec=` under the units (30 s), no extra wake-up. Without a
/// watchdog but under systemd (`$NOTIFY_SOCKET` set) the tick comes every 30 s for `STATUS=`
/// alone; outside systemd there is no tick at all. Every text also carries the wall-clock time
/// (UTC) it refers to, which stays true between ticks.
package final class DaemonStatus: Sendable {
    /// What the daemon is doing.
    enum Phase: Sendable, Equatable {
        /// Configuration, password and checkpoint loaded; nothing sent yet.
        case starting
        /// A sign-in step (autodiscover, user, token, application) is on the network.
        case signingIn(url: String)
        /// A sign-in step failed and is tried again at `retryAt`.
        case signInWaiting(url: String, reason: String, retryAt: Moment)
        /// The event channel is open (a poll is parked or a batch is being handed over).
        case polling
        /// A poll failed and is tried again at `retryAt`.
        case channelWaiting(url: String, reason: String, retryAt: Moment)
        /// Another consumer polls the same application (409 `PGetReplaced`).
        case anotherConsumer(url: String, retryAt: Moment)
        case stopping
    }

    /// A point in time on both clocks: the monotonic one for "in 12 s", the wall clock for
    /// "at 08:15:40 UTC".
    struct Moment: Sendable, Equatable {
        var instant: ContinuousClock.Instant
        var wallSeconds: Int64

        init(instant: ContinuousClock.Instant, wallSeconds: Int64) {
            self.instant = instant
            self.wallSeconds = wallSeconds
        }

        static func now() -> Moment {
            Moment(instant: .now, wallSeconds: WallClock.secondsSince1970())
        }

        static func after(_ delay: Duration) -> Moment {
            let now = Moment.now()
            return Moment(instant: now.instant + delay, wallSeconds: now.wallSeconds + delay.components.seconds)
        }
    }

    package let notifier: Notifier
    let stats: DaemonStats
    private let phase = Locked(Phase.starting)

    package init(notifier: Notifier, stats: DaemonStats) {
        self.notifier = notifier
        self.stats = stats
    }

    /// How often `tick()` should run: half the watchdog interval, or every 30 s when systemd
    /// listens without a watchdog, or never (nil) outside systemd.
    var tickInterval: Duration? {
        notifier.watchdogInterval ?? (notifier.isActive ? .seconds(30) : nil)
    }

    var current: Phase { phase.withLock { $0 } }

    /// Sets the phase; sends `STATUS=` when it changed.
    func set(_ new: Phase) {
        let changed = phase.withLock { phase -> Bool in
            guard phase != new else { return false }
            phase = new
            return true
        }
        if changed { notifier.status(text()) }
    }

    /// Sends `STATUS=` again (the counters changed).
    func refresh() {
        notifier.status(text())
    }

    /// `READY=1`: the daemon runs and retries on its own from here (configuration, password
    /// and checkpoint are loaded); the first step is signing in at `url`.
    func ready(signingInTo url: String) {
        phase.withLock { $0 = .signingIn(url: url) }
        notifier.ready(status: text())
    }

    /// `READY=1` again after a reload (`RELOADING=1`), with the status as it is.
    package func reloaded() {
        notifier.ready(status: text())
    }

    /// `STOPPING=1` (SIGTERM): later ticks keep saying "stopping".
    package func stopping() {
        phase.withLock { $0 = .stopping }
        notifier.stopping()
    }

    /// The heartbeat: `WATCHDOG=1` (when the unit has a watchdog) and the refreshed `STATUS=`.
    func tick() {
        notifier.heartbeat(status: text())
    }

    /// The `STATUS=` text now.
    func text(now: Moment = .now()) -> String {
        Self.render(current, records: stats.records, lastBatch: stats.lastBatch, now: now)
    }

    /// The text for a phase (pure, for tests). URLs lose their user info, query and fragment;
    /// reasons lose control characters; the whole text is capped at 300 characters.
    static func render(_ phase: Phase, records: Int, lastBatch: Moment?, now: Moment) -> String {
        let text: String
        switch phase {
        case .starting:
            text = "starting"
        case .signingIn(let url):
            text = "signing in to \(StatusText.url(url))"
        case .signInWaiting(let url, let reason, let retryAt):
            text = "signing in to \(StatusText.url(url)): \(StatusText.scrub(reason)); \(nextTry(retryAt, now: now))"
        case .polling:
            let last =
                lastBatch.map { "last batch \(age(now.instant - $0.instant)) ago (\(clock($0.wallSeconds)))" }
                ?? "no batch yet"
            text = "polling; \(records) records written; \(last)"
        case .channelWaiting(let url, let reason, let retryAt):
            text =
                "polling \(StatusText.url(url)) failed: \(StatusText.scrub(reason)); \(nextTry(retryAt, now: now)); \(records) records written"
        case .anotherConsumer(let url, let retryAt):
            text =
                "another consumer polls this application (409 PGetReplaced at \(StatusText.url(url))): stop the other ucwa-eventd or client signed in as this user; \(nextTry(retryAt, now: now))"
        case .stopping:
            text = "stopping"
        }
        return StatusText.cap(text, 300)
    }

    static func nextTry(_ moment: Moment, now: Moment) -> String {
        let remaining = max(.zero, moment.instant - now.instant)
        return "next try in \(age(remaining)) (\(clock(moment.wallSeconds)))"
    }

    /// "12 s", "17 min", "3 h": whole units, rounded down; seconds up to ten minutes.
    static func age(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        if seconds < 600 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }

    /// "08:15:40 UTC".
    static func clock(_ wallSeconds: Int64) -> String {
        var time = time_t(wallSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "at \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}

/// Texts for `STATUS=` and other operator-facing lines that may carry URLs from the server or
/// the configuration: no user info (`user:password@`), no query (tokens have been seen there in
/// other deployments), no fragment, no control characters.
enum StatusText {
    /// `https://user:pw@host:443/a/b?x=1#f` → `https://host:443/a/b`; a long path is cut with `…`.
    static func url(_ text: String) -> String {
        var rest = Substring(text)
        var scheme = ""
        if let range = rest.firstRange(of: "://") {
            scheme = String(rest[..<range.upperBound])
            rest = rest[range.upperBound...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<end]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<slash]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        let path = cap(String(rest[slash...]), 80)
        return printable(scheme + authority + path)
    }

    /// Control characters become spaces; every `http(s)://` URL inside goes through `url(_:)`.
    static func scrub(_ text: String) -> String {
        var out = ""
        var words = text.split(separator: " ", omittingEmptySubsequences: false).makeIterator()
        var first = true
        while let word = words.next() {
            if !first { out += " " }
            first = false
            if let start = word.firstRange(of: "http://") ?? word.firstRange(of: "https://") {
                var token = word[start.lowerBound...]
                var trailing = ""
                while let last = token.last, ":,;)".contains(last) {
                    trailing = String(last) + trailing
                    token = token.dropLast()
                }
                out += String(word[..<start.lowerBound]) + url(String(token)) + trailing
            } else {
                out += word
            }
        }
        return printable(out)
    }

    /// Control characters (newlines would start a new `KEY=` in the datagram) become spaces.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// At most `limit` characters, `…` marking a cut.
    static func cap(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
