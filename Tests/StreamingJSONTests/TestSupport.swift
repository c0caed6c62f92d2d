import Foundation

@testable import StreamingJSON

/// One token, as the tokenizer reported it.
enum Token: Equatable, Sendable, CustomStringConvertible {
    case objectStart, objectEnd, arrayStart, arrayEnd
    case key([UInt8])
    case string([UInt8])
    case number([UInt8])
    case bool(Bool)
    case null

    var description: String {
        switch self {
        case .objectStart: return "{"
        case .objectEnd: return "}"
        case .arrayStart: return "["
        case .arrayEnd: return "]"
        case .key(let b): return "key(\(String(decoding: b, as: UTF8.self)))"
        case .string(let b): return "string(\(String(decoding: b, as: UTF8.self)))"
        case .number(let b): return "number(\(String(decoding: b, as: UTF8.self)))"
        case .bool(let v): return "\(v)"
        case .null: return "null"
        }
    }
}

/// A handler that records every token.
struct TokenRecorder: JSONTokenHandler {
    var tokens: [Token] = []
    mutating func objectStart() { tokens.append(.objectStart) }
    mutating func objectEnd() { tokens.append(.objectEnd) }
    mutating func arrayStart() { tokens.append(.arrayStart) }
    mutating func arrayEnd() { tokens.append(.arrayEnd) }
    mutating func key(_ bytes: UnsafeRawBufferPointer) { tokens.append(.key(Array(bytes))) }
    mutating func string(_ bytes: UnsafeRawBufferPointer) { tokens.append(.string(Array(bytes))) }
    mutating func number(_ bytes: UnsafeRawBufferPointer) { tokens.append(.number(Array(bytes))) }
    mutating func bool(_ value: Bool) { tokens.append(.bool(value)) }
    mutating func null() { tokens.append(.null) }
}

/// The outcome of tokenizing a document: its tokens, or the tokens before the error and the
/// error.
struct Outcome: Equatable, CustomStringConvertible {
    var tokens: [Token]
    var error: JSONError?
    var description: String { error.map { "error: \($0)" } ?? "ok: \(tokens.count) tokens" }
}

/// Tokenizes `bytes` fed in pieces that end at the given cut points.
func tokenize(_ bytes: [UInt8], cuts: [Int] = [], limits: JSONLimits = .default) -> Outcome {
    var tokenizer = JSONTokenizer(handler: TokenRecorder(), limits: limits)
    var start = 0
    do {
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            try bytes[start..<cut].withUnsafeBytes { try tokenizer.feed($0) }
            start = cut
        }
        try tokenizer.finish()
        return Outcome(tokens: tokenizer.handler.tokens, error: nil)
    } catch let error as JSONError {
        return Outcome(tokens: tokenizer.handler.tokens, error: error)
    } catch {
        fatalError("unexpected error type \(error)")
    }
}

/// Tokenizes `bytes` one byte at a time.
func tokenizeBytewise(_ bytes: [UInt8], limits: JSONLimits = .default) -> Outcome {
    tokenize(bytes, cuts: Array(0..<bytes.count), limits: limits)
}
