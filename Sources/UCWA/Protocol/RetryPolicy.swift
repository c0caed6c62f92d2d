/// How long to wait before retrying a request that failed in a way that may pass: transport
/// errors, 5xx, 429, 503 (protocol notes §2.4 — UCWA documents no policy, so this is ours).
///
/// Exponential: `initialDelay`, doubling per consecutive failure up to `maximumDelay`, each
/// delay spread by ±`jitter` so that many clients do not retry in step. A server's
/// `Retry-After` is honoured as a lower bound, but clamped to `maximumRetryAfter` so that the
/// gap stays well inside the server's idle expiry of the application (5–15 minutes). After
/// `maximumAttempts` consecutive failures the caller gives up (exit code 75).
package struct RetryPolicy: Sendable, Equatable {
    var initialDelay: Duration
    var maximumDelay: Duration
    /// Fraction of the delay added or removed at random (0.25: ±25 %).
    var jitter: Double
    var maximumRetryAfter: Duration
    var maximumAttempts: Int

    package init(
        initialDelay: Duration = .seconds(1),
        maximumDelay: Duration = .seconds(60),
        jitter: Double = 0.25,
        maximumRetryAfter: Duration = .seconds(240),
        maximumAttempts: Int = 60
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.maximumRetryAfter = maximumRetryAfter
        self.maximumAttempts = maximumAttempts
    }

    /// The delay before retry number `attempt` (1 for the first retry). `random` is a number in
    /// 0..<1 from the caller's generator, so the function stays pure and testable.
    func delay(attempt: Int, retryAfter: Duration? = nil, random: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        var base = initialDelay * (1 << exponent)
        if base > maximumDelay { base = maximumDelay }
        let spread = 1 + jitter * (2 * min(max(random, 0), 1) - 1)
        var delay = base * spread
        if let retryAfter {
            delay = max(delay, min(retryAfter, maximumRetryAfter))
        }
        return delay
    }

    /// Whether retry number `attempt` is still within the budget.
    func allows(attempt: Int) -> Bool { attempt <= maximumAttempts }
}

/// The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
package enum RetryAfter {
    /// The delay it asks for; nil when absent or unparseable. `now` is the current time in
    /// seconds since 1970 (for the HTTP-date form); a date in the past gives zero.
    package static func parse(_ value: String?, now: Int64) -> Duration? {
        guard let value else { return nil }
        let text = value.trimmingSpaces
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        guard let date = httpDate(String(text)) else { return nil }
        return .seconds(max(0, date - now))
    }

    /// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, as seconds since 1970.
    static func httpDate(_ text: String) -> Int64? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT", let day = Int64(fields[1]), let year = Int64(fields[3]) else {
            return nil
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let monthIndex = months.firstIndex(of: String(fields[2])) else { return nil }
        let time = fields[4].split(separator: ":").compactMap { Int64($0) }
        guard time.count == 3, (1...31).contains(day) else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let month = Int64(monthIndex + 1)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + time[0] * 3600 + time[1] * 60 + time[2]
    }
}

/// A retry budget that ran out: what was retried, where, how many attempts were made and how
/// the last one failed. The daemon exits 75 (a temporary failure that outlived its budget:
/// the unit restarts it). Every retrying part of the daemon — the event channel, the sign-in,
/// the token grant and the resolver's GETs — reports a spent budget with this one error.
package struct RetryBudgetSpent: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was retried: `sign-in`, `token grant`, `event channel`, `invitation GET`, …
    var operation: String
    var url: String
    var attempts: Int
    /// The last failure, in a few words (`HTTP 503`, `connection refused`, …).
    var lastFailure: String

    init(operation: String, url: String, attempts: Int, lastFailure: String) {
        self.operation = operation
        self.url = url
        self.attempts = attempts
        self.lastFailure = lastFailure
    }

    package var description: String {
        "\(operation) at \(url): gave up after \(attempts) attempts in a row (retry budget spent); last failure: \(lastFailure)"
    }
}

/// The one retry mechanism (issue 15, item 3): consecutive failures of one operation counted
/// against a `RetryPolicy`. Each failure gives either the delay before the next attempt
/// (exponential, jittered, `Retry-After` as a lower bound clamped to the policy's maximum) or,
/// once the policy's `maximumAttempts` are used up, a `RetryBudgetSpent` naming the operation,
/// the URL and the last failure. A success starts the count again. Pure: the caller sleeps.
package struct RetryBudget: Sendable, Equatable {
    package enum Decision: Sendable, Equatable {
        /// Try again after this delay.
        case retry(after: Duration)
        /// The budget is spent: stop with this error.
        case spent(RetryBudgetSpent)
    }

    let policy: RetryPolicy
    let operation: String
    /// Consecutive failures so far.
    package private(set) var failures = 0

    package init(policy: RetryPolicy, operation: String) {
        self.policy = policy
        self.operation = operation
    }

    /// One more failure at `url`; `reason` says how it failed (for the spent error).
    package mutating func failed(url: String, reason: String, retryAfter: Duration? = nil, random: Double) -> Decision {
        failures += 1
        guard policy.allows(attempt: failures) else {
            return .spent(RetryBudgetSpent(operation: operation, url: url, attempts: failures, lastFailure: reason))
        }
        return .retry(after: policy.delay(attempt: failures, retryAfter: retryAfter, random: random))
    }

    /// The operation succeeded: the next failure is the first again.
    package mutating func succeeded() {
        failures = 0
    }
}
