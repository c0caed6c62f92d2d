/// A JSON document as a value, for the small documents that are not event batches: OAuth
/// tokens, applications, resources, the checkpoint.
///
/// Objects keep their members in document order (duplicates included, `subscript` returns the
/// last, as most parsers do); numbers keep their lexeme so that nothing is lost to rounding.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    /// The number's lexeme exactly as it appeared (validated by the RFC 8259 grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    /// One object member.
    public struct Member: Sendable, Equatable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of the last member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// The element at `index`, when this is an array and the index is in range.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number as an `Int` when its lexeme is an integer that fits.
    public var intValue: Int? {
        if case .number(let lexeme) = self { return Int(lexeme) }
        return nil
    }

    /// The number as a `Double` (nearest value).
    var doubleValue: Double? {
        if case .number(let lexeme) = self { return Double(lexeme) }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var objectValue: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// Decodes one complete document.
    public static func parse(
        _ bytes: some Collection<UInt8>,
        limits: JSONLimits = .default
    ) throws(JSONError) -> JSONValue {
        var tokenizer = JSONTokenizer(handler: JSONValueBuilder(), limits: limits)
        try tokenizer.feed(bytes)
        try tokenizer.finish()
        guard let value = tokenizer.handler.result else {
            preconditionFailure("a finished tokenizer always yields a value")
        }
        return value
    }

    /// Decodes one complete document given as text.
    static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}
