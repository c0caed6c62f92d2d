/// The `type` of an event: `added`/`updated`/`deleted` for ordinary resources,
/// `started`/`updated`/`completed` for operation resources such as invitations (protocol
/// notes §2.2). Anything else is kept as `other`.
public enum UCWAEventType: Sendable, Equatable, Hashable, CustomStringConvertible {
    case added, updated, deleted, started, completed
    case other(String)

    init(_ text: String) {
        switch text {
        case "added": self = .added
        case "updated": self = .updated
        case "deleted": self = .deleted
        case "started": self = .started
        case "completed": self = .completed
        default: self = .other(text)
        }
    }

    /// Recognises the known types from token bytes without allocating.
    init(bytes: UnsafeRawBufferPointer) {
        if ByteMatching.equals(bytes, "updated") {
            self = .updated
        } else if ByteMatching.equals(bytes, "started") {
            self = .started
        } else if ByteMatching.equals(bytes, "completed") {
            self = .completed
        } else if ByteMatching.equals(bytes, "added") {
            self = .added
        } else if ByteMatching.equals(bytes, "deleted") {
            self = .deleted
        } else {
            self = .other(ByteMatching.string(bytes))
        }
    }

    public var description: String {
        switch self {
        case .added: return "added"
        case .updated: return "updated"
        case .deleted: return "deleted"
        case .started: return "started"
        case .completed: return "completed"
        case .other(let text): return text
        }
    }
}
