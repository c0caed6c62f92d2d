import Testing
import UCWATestSupport

/// `value(of:within:)`, the test support's bounded wait for a task (built on `Locked`): a task
/// that never ends must turn into a failed expectation at the timeout, not a hung test run.
@Suite struct WaitingTests {
    @Test func aTaskThatNeverEndsGivesNilAtTheTimeout() async {
        let neverEnds = Task<Int, Never> {
            // Ignores cancellation, as a daemon task that never returns does.
            while true { try? await Task.sleep(for: .seconds(3600)) }
        }
        let started = ContinuousClock.now
        let value = await value(of: neverEnds, within: .milliseconds(200))
        #expect(value == nil)
        // The task never ends: any return is at the timeout. The bound is loose because a
        // loaded machine may start the waiter late; what it catches is a wait for the task.
        #expect(ContinuousClock.now - started < .seconds(120), "returned at the timeout")
    }

    @Test func aTaskThatEndsGivesItsValue() async {
        let task = Task<Int, Never> { 42 }
        #expect(await value(of: task, within: .seconds(30)) == 42)
    }
}
