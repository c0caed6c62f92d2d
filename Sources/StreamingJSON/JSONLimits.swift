/// Bounds that keep a hostile or broken peer from exhausting memory or the stack.
///
/// Defaults follow DESIGN.md §5: nesting depth 64, strings 1 MiB, documents unbounded here; the
/// event channel sets `maxDocumentBytes` to 1 GiB (`eventChannel`, `[Events] MaxBatchBytes=`),
/// `replay` keeps it unbounded.
public struct JSONLimits: Sendable, Equatable {
    /// Deepest allowed container nesting (objects and arrays together).
    var maxDepth: Int
    /// Longest allowed string after escape decoding, in UTF-8 bytes; also caps number lexemes.
    var maxStringBytes: Int
    /// Largest allowed document in bytes (a leading BOM included); `nil` means no limit.
    var maxDocumentBytes: Int?

    public init(maxDepth: Int = 64, maxStringBytes: Int = 1 << 20, maxDocumentBytes: Int? = nil) {
        precondition(maxDepth > 0 && maxStringBytes > 0, "JSON limits must be positive")
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxDocumentBytes = maxDocumentBytes
    }

    /// The defaults with no total size limit.
    public static let `default` = JSONLimits()

    /// The limits for event-channel response bodies: the defaults plus a 1 GiB document cap (memory
    /// stays flat whatever the size; the cap only bounds how long one body may take).
    public static let eventChannel = JSONLimits(maxDocumentBytes: 1 << 30)
}
