import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (`Type=notify`): READY, STATUS, WATCHDOG, STOPPING,
/// RELOADING. A no-op without `$NOTIFY_SOCKET`.
public struct Notifier: Sendable {
    /// Half of `$WATCHDOG_USEC`, when the unit has a watchdog.
    public let watchdogInterval: Duration?

    public init(environment: [String: String]) {
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }
    public func reloading() { send("RELOADING=1") }

    private func send(_ state: String) {
        // Newlines inside a value would start a new assignment: status texts are ours, but strip them anyway.
        _ = ucwa_sd_notify(0, state)
    }
}
