/// The links of one event batch, hrefs as sent (relative ones resolve against the batch's
/// base): what the decoder reports (`EventBatchConsumer.batchLink`), what the channel collects
/// while a body streams, and what its poll outcome hands the channel machine, which resolves
/// the one it follows into the next request's URL.
public struct BatchLinks: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The URL this batch answered.
    var selfLink: String?
    /// The URL to request next; requesting it acknowledges this batch.
    public var next: String?
    /// Like `next`, after the server tore down transient state.
    public var resume: String?
    /// The client lost its place; following it returns the first unacknowledged batch.
    public var resync: String?

    /// No links yet.
    public init() {}

    init(next: String?, resume: String? = nil, resync: String? = nil) {
        self.next = next
        self.resume = resume
        self.resync = resync
    }

    public init(dictionaryLiteral elements: (BatchLinkKind, String)...) {
        for (kind, href) in elements { self[kind] = href }
    }

    public subscript(kind: BatchLinkKind) -> String? {
        get {
            switch kind {
            case .self: selfLink
            case .next: next
            case .resume: resume
            case .resync: resync
            }
        }
        set {
            switch kind {
            case .self: selfLink = newValue
            case .next: next = newValue
            case .resume: resume = newValue
            case .resync: resync = newValue
            }
        }
    }
}
