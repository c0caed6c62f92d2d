/// Conditions the channel reports to its handler besides events (they are logged too).
enum ChannelNotice: Sendable, Equatable {
    /// 409 `PGetReplaced` that this process did not cause: another consumer is polling the same
    /// application (same user, user agent and endpoint id).
    case anotherConsumer(url: String)
    /// A poll failed and will be retried after `delay`.
    case retrying(url: String, reason: String, delay: Duration)
    /// A batch kept failing to decode; the channel moved on to `next`.
    case skippedMalformedBatch(url: String, next: String, description: String)
    /// A 401 was answered with a new token.
    case reauthenticated
}
