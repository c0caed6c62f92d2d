import Testing

@testable import StreamingJSON
@testable import UCWA

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(
        initialDelay: .seconds(1),
        maximumDelay: .seconds(60),
        jitter: 0.25,
        maximumRetryAfter: .seconds(240),
        maximumAttempts: 5
    )

    @Test func doublesUpToTheCapWithJitterAroundIt() {
        #expect(policy.delay(attempt: 1, random: 0.5) == .seconds(1))
        #expect(policy.delay(attempt: 2, random: 0.5) == .seconds(2))
        #expect(policy.delay(attempt: 4, random: 0.5) == .seconds(8))
        #expect(policy.delay(attempt: 30, random: 0.5) == .seconds(60))
        #expect(policy.delay(attempt: 3, random: 0) == .seconds(3))
        #expect(policy.delay(attempt: 3, random: 1) == .seconds(5))
    }

    @Test func retryAfterIsALowerBoundClampedToTheIdleWindow() {
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(30), random: 0.5) == .seconds(30))
        #expect(policy.delay(attempt: 7, retryAfter: .seconds(5), random: 0.5) == .seconds(60))
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(3600), random: 0.5) == .seconds(240))
    }

    @Test func budget() {
        #expect(policy.allows(attempt: 5))
        #expect(!policy.allows(attempt: 6))
    }

    @Test func retryAfterHeaderForms() {
        #expect(RetryAfter.parse("120", now: 0) == .seconds(120))
        #expect(RetryAfter.parse(" 7 ", now: 0) == .seconds(7))
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_777 - 90) == .seconds(90))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_777 + 90) == .seconds(0))
        #expect(RetryAfter.parse("soon", now: 0) == nil)
        #expect(RetryAfter.parse(nil, now: 0) == nil)
    }
}
