/// A token handler that assembles a `JSONValue`. Use it with `JSONTokenizer` to build values
/// incrementally, or through `JSONValue.parse`.
struct JSONValueBuilder: JSONTokenHandler, Sendable {
    /// The containers being filled, innermost last.
    private var open: [Partial] = []
    /// The key waiting for its value in the innermost object.
    private var pendingKeys: [String] = []
    /// The top-level value once complete.
    package private(set) var result: JSONValue?

    private enum Partial: Sendable {
        case array([JSONValue])
        case object([JSONValue.Member])
    }

    init() {}

    mutating func objectStart() {
        open.append(.object([]))
    }

    mutating func arrayStart() {
        open.append(.array([]))
    }

    mutating func objectEnd() {
        guard case .object(let members) = open.removeLast() else { preconditionFailure("unbalanced object") }
        add(.object(members))
    }

    mutating func arrayEnd() {
        guard case .array(let elements) = open.removeLast() else { preconditionFailure("unbalanced array") }
        add(.array(elements))
    }

    mutating func key(_ bytes: UnsafeRawBufferPointer) {
        pendingKeys.append(String(decoding: bytes, as: UTF8.self))
    }

    mutating func string(_ bytes: UnsafeRawBufferPointer) {
        add(.string(String(decoding: bytes, as: UTF8.self)))
    }

    mutating func number(_ bytes: UnsafeRawBufferPointer) {
        add(.number(String(decoding: bytes, as: UTF8.self)))
    }

    mutating func bool(_ value: Bool) {
        add(.bool(value))
    }

    mutating func null() {
        add(.null)
    }

    private mutating func add(_ value: JSONValue) {
        guard let last = open.indices.last else {
            result = value
            return
        }
        switch open[last] {
        case .array(var elements):
            open[last] = .array([])
            elements.append(value)
            open[last] = .array(elements)
        case .object(var members):
            open[last] = .object([])
            members.append(JSONValue.Member(pendingKeys.removeLast(), value))
            open[last] = .object(members)
        }
    }
}
