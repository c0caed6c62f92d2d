/// Holds the events of one event-channel body until the base their relative hrefs resolve
/// against is known (DESIGN.md §3: every href in a record is absolute, resolved against the
/// body's `baseuri` wherever it appears in the body, else the request URL).
///
/// A pure state machine, fed in document order by the channel:
/// - `waiting`: no `baseuri` yet. Events are held, at most `limit` of them.
/// - `known`: the base is settled (a `baseuri` arrived, or the caller pinned the base because it
///   read this body before). Events go at once.
/// - `overflowed`: `limit` events are held and still no `baseuri`. Later events are dropped
///   (not delivered); at the end of the body the held events go with the base found by then,
///   and the caller reads the body again with that base pinned, skipping what was delivered.
///
/// Cost: memory is bounded by `limit` events whatever the body size; a body without `baseuri`
/// releases its events when it ends instead of while it streams; a body of more than `limit`
/// events whose `baseuri` has not come by then is transferred and decoded twice. UCWA's long
/// poll never sends `baseuri` and batches of a few dozen events, so in practice the cost is the
/// wait for the end of a small body; the Trusted Application API puts `baseuri` after `sender`.
package struct BodyBaseHold: Sendable {
    package enum State: Sendable, Equatable {
        case waiting, known, overflowed
    }

    /// The URL of the request that brought the body.
    let requestURL: String
    /// Most events held while the base is not known.
    let limit: Int
    package private(set) var state: State
    /// The base events are resolved against: the request URL until a `baseuri` arrives.
    package private(set) var base: String
    private var held: [UCWAEvent] = []

    /// `pinnedBase`: the base found in an earlier read of the same body (nil: not read before).
    package init(requestURL: String, pinnedBase: String? = nil, limit: Int) {
        self.requestURL = requestURL
        self.limit = max(1, limit)
        if let pinnedBase {
            state = .known
            base = pinnedBase
        } else {
            state = .waiting
            base = requestURL
        }
    }

    /// Events held now.
    var heldCount: Int { held.count }

    /// Takes the next event of the body: returns it when it may go now; otherwise it is held
    /// (or, once the hold is full, dropped: the body will be read again).
    package mutating func take(_ event: consuming UCWAEvent) -> UCWAEvent? {
        switch state {
        case .known:
            return event
        case .waiting:
            if held.count < limit {
                held.append(event)
            } else {
                state = .overflowed
            }
            return nil
        case .overflowed:
            return nil
        }
    }

    /// The body's `baseuri` (resolved against the request URL): the held events may go, with it.
    package mutating func baseURI(_ uri: String) -> [UCWAEvent] {
        base = Href.resolve(uri, against: requestURL) ?? requestURL
        guard state == .waiting else { return [] }
        state = .known
        return takeHeld()
    }

    /// The body ended: the held events go with the base found by then. Returns whether the body
    /// must be read again (with `base` pinned) because events were dropped.
    package mutating func end() -> (events: [UCWAEvent], readAgain: Bool) {
        let again = state == .overflowed
        if state == .waiting { state = .known }
        return (takeHeld(), again)
    }

    private mutating func takeHeld() -> [UCWAEvent] {
        defer { held.removeAll(keepingCapacity: false) }
        return held
    }
}
