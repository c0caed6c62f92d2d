import UCWA

/// The channel stopped for good: why, and the daemon's exit code (`stop.exitCode`).
struct ChannelGaveUp: Error, Sendable, CustomStringConvertible {
    var stop: ChannelStop
    var reason: String { stop.description }
    var description: String { "event channel stopped: \(stop)" }
}
