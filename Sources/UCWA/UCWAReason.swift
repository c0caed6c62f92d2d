/// The `reason` of an event: why an operation failed or why the server changed something on
/// its own (protocol notes §4.1). Only `code` is guaranteed; unknown subcodes are normal.
public struct UCWAReason: Sendable, Equatable, Hashable {
    public var code: String
    public var subcode: String?
    /// Localised human text; user-visible, sanitise before display.
    public var message: String?

    public init(code: String, subcode: String? = nil, message: String? = nil) {
        self.code = code
        self.subcode = subcode
        self.message = message
    }
}
