/// Receives the tokens of one JSON document, in order, as the tokenizer recognises them.
///
/// Byte buffers handed to `key`, `string` and `number` are only valid for the duration of the
/// call: they point into the caller's input chunk when the token lies wholly inside it and has
/// no escapes, else into the tokenizer's scratch buffer. Strings arrive decoded (escapes
/// resolved) and validated UTF-8; numbers arrive as their lexeme, validated against the
/// RFC 8259 grammar. A handler refuses a document by throwing (typically
/// `JSONError.rejected(_:)`); the tokenizer then adds the position of the refused token.
public protocol JSONTokenHandler {
    mutating func objectStart() throws(JSONError)
    mutating func objectEnd() throws(JSONError)
    mutating func arrayStart() throws(JSONError)
    mutating func arrayEnd() throws(JSONError)
    /// An object key; the value follows as the next token(s).
    mutating func key(_ bytes: UnsafeRawBufferPointer) throws(JSONError)
    mutating func string(_ bytes: UnsafeRawBufferPointer) throws(JSONError)
    mutating func number(_ bytes: UnsafeRawBufferPointer) throws(JSONError)
    mutating func bool(_ value: Bool) throws(JSONError)
    mutating func null() throws(JSONError)
}
