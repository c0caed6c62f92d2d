/// The `reason` of an event: why an operation failed or why the server changed something on
/// its own (protocol notes §4.1). Only `code` is guaranteed; unknown subcodes are normal.
public struct UCWAReason: Sendable, Equatable, Hashable {
    public var code: UCWAText
    public var subcode: UCWAText?
    /// Localised human text; user-visible, sanitise before display.
    public var message: UCWAText?

    public init(code: UCWAText, subcode: UCWAText? = nil, message: UCWAText? = nil) {
        self.code = code
        self.subcode = subcode
        self.message = message
    }
}
