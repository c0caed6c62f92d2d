import UCWA

/// The channel stopped for good: why, and the daemon's exit code (`stop.exitCode`).
package struct ChannelGaveUp: Error, Sendable, CustomStringConvertible {
    package var stop: ChannelStop
    package var reason: String { stop.description }
    package var description: String { "event channel stopped: \(stop)" }
}
