/// The `reason` of an event: why an operation failed or why the server changed something on
/// its own (protocol notes §4.1). Only `code` is guaranteed; unknown subcodes are normal.
package struct UCWAReason: Sendable, Equatable, Hashable {
    package var code: UCWAText
    package var subcode: UCWAText?
    /// Localised human text; user-visible, sanitise before display.
    package var message: UCWAText?

    package init(code: UCWAText, subcode: UCWAText? = nil, message: UCWAText? = nil) {
        self.code = code
        self.subcode = subcode
        self.message = message
    }
}
