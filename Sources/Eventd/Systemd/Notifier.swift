import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (`Type=notify`): READY, STATUS, WATCHDOG, STOPPING,
/// RELOADING. A no-op without `$NOTIFY_SOCKET`.
///
/// A datagram is `KEY=value` lines, so a newline inside a status text would start another
/// assignment. The texts are sent as they are: they come from `DaemonStatus`, whose
/// `StatusText` has turned every control character into a space.
package struct Notifier: Sendable {
    /// Half of `$WATCHDOG_USEC`, when the unit has a watchdog.
    let watchdogInterval: Duration?
    /// systemd listens (`$NOTIFY_SOCKET` is set).
    let isActive: Bool

    package init(environment: [String: String]) {
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
        isActive = !(environment["NOTIFY_SOCKET"] ?? "").isEmpty
    }

    func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    func status(_ text: String) { send("STATUS=\(text)") }
    func watchdog() { send("WATCHDOG=1") }
    /// `WATCHDOG=1` when the unit has a watchdog, and the status, in one datagram.
    func heartbeat(status text: String) {
        send(watchdogInterval == nil ? "STATUS=\(text)" : "WATCHDOG=1\nSTATUS=\(text)")
    }
    func stopping() { send("STOPPING=1\nSTATUS=stopping") }
    package func reloading() { send("RELOADING=1") }

    private func send(_ state: String) {
        guard isActive else { return }
        _ = ucwa_sd_notify(0, state)
    }
}
