import Foundation
import UCWASimulator

extension UCWASimulator {
    /// Waits until the simulator has seen `count` events acknowledged.
    package func waitForAcknowledged(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("\(count) acknowledged events", timeout: timeout) {
            await self.stats().eventsAcknowledged >= count
        }
    }

    /// `RunConfiguration.write` for this simulator's account.
    package func runConfiguration(
        password: String = SimulatorOptions().password,
        extra: String = ""
    ) throws -> (directory: String, config: String) {
        try RunConfiguration.write(
            username: SimulatorOptions().username,
            password: password,
            discoverURL: discoverURL,
            extra: extra
        )
    }
}
