import SystemCalls
import UCWASimulator

#if canImport(Glibc)
import Glibc
#endif

/// The scenario `ucwa-eventd demo` shows, played by `ucwa-sim --demo`: participant invitations
/// with every outcome (every other one link-only, one in seven without `started`, one in three
/// without `Alerting`), 30 ms apart, and with `faults` a dropped connection, a 503 with
/// Retry-After, a resync, revoked tokens, 1-byte chunks and a lost application on the way.
///
/// It lives here, not in the daemon, so that the production binary does not link SwiftNIO:
/// `demo` spawns `ucwa-sim --demo`, reads the `DiscoverURL=` line, runs the daemon against it
/// and stops it when the `demo-done` line (the `done(_:)` text) arrives. The simulator exits
/// when its standard input reaches end of file, so it never outlives the demo, however the
/// demo ends.
enum DemoScenario {
    /// Plays `invitations` invitations and waits (at most a minute) until the client has
    /// acknowledged every event; returns the number of invitation events played.
    static func play(invitations: Int, faults: Bool, on simulator: UCWASimulator) async throws -> Int {
        let outcomes = InvitationOutcome.variety
        let faultPlan: [Int: SimulatorFault] =
            faults
            ? [
                3: .dropConnectionMidBody, 6: .eventsStatus(503, retryAfterSeconds: 1), 9: .resync,
                12: .revokeTokens, 15: .oneByteChunks, 18: .applicationGone,
            ] : [:]
        var expected = 0
        for index in 0..<invitations {
            if let fault = faultPlan[index] {
                // A lost application loses its queued events: let the queue drain first.
                if fault == .applicationGone { try await waitForAcknowledged(expected, simulator) }
                await simulator.inject(fault)
            }
            // Every other invitation is link-only: the daemon fetches the resource.
            await simulator.update { $0.embedResources = index % 2 == 0 }
            let script = InvitationScript(
                to: "sip:user\(index)@contoso.com",
                subject: "Demo invitation \(index + 1)",
                outcome: outcomes[index % outcomes.count],
                withStarted: index % 7 != 6,
                withAlerting: index % 3 != 2
            )
            await simulator.play(script)
            expected += script.eventCount
            try await Task.sleep(for: .milliseconds(30))
        }
        try await waitForAcknowledged(expected, simulator)
        return expected
    }

    /// The line that tells `demo` the scenario is over: `demo-done events=N applications=A tokens=T acknowledged=K`.
    static func done(events: Int, _ stats: SimulatorStats) -> String {
        "demo-done events=\(events) applications=\(stats.applicationsCreated) tokens=\(stats.tokensIssued) acknowledged=\(stats.eventsAcknowledged)"
    }

    /// Waits until the simulator has seen `count` events acknowledged (at most a minute).
    static func waitForAcknowledged(_ count: Int, _ simulator: UCWASimulator) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while await simulator.stats().eventsAcknowledged < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Ends the process when standard input reaches end of file or fails: the demo holds the
    /// write end of a pipe, so the simulator goes when the demo goes, also after a SIGKILL.
    /// A thread of its own, because the read blocks.
    static func exitWhenStandardInputCloses() {
        var thread = pthread_t()
        pthread_create(
            &thread,
            nil,
            { _ in
                var buffer = [UInt8](repeating: 0, count: 256)
                while let count = try? buffer.withUnsafeMutableBytes({ try SystemFile.standardInput.read(into: $0) }),
                    count > 0
                {}
                exit(0)
            },
            nil
        )
        pthread_detach(thread)
    }
}
