import PropertyBased
import Testing

@testable import StreamingJSON
@testable import UCWA

/// Any split of any input gives the same outcome as feeding it whole: the same tokens and, for
/// invalid input, the same error at the same position.
@Suite struct SplitPropertyTests {
    /// Random JSON text from a small grammar, with unicode, escapes and whitespace.
    static func document(_ rng: inout some RandomNumberGenerator, depth: Int = 0) -> String {
        let pick = Int.random(in: 0..<(depth > 4 ? 5 : 8), using: &rng)
        let space = [" ", "", "\n", "\t", "\r\n "][Int.random(in: 0..<5, using: &rng)]
        switch pick {
        case 0: return space + "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2:
            let numbers = ["0", "-0", "12", "-3.25", "1e10", "6.02E+23", "-1.5e-7", "123456789012345678901234567890"]
            return numbers[Int.random(in: 0..<numbers.count, using: &rng)]
        case 3, 4: return string(&rng)
        case 5:
            let count = Int.random(in: 0..<5, using: &rng)
            let elements = (0..<count).map { _ in document(&rng, depth: depth + 1) }
            return "[" + space + elements.joined(separator: "," + space) + "]"
        default:
            let count = Int.random(in: 0..<5, using: &rng)
            let members = (0..<count).map { _ in string(&rng) + space + ":" + document(&rng, depth: depth + 1) }
            return "{" + members.joined(separator: ",") + space + "}"
        }
    }

    static func string(_ rng: inout some RandomNumberGenerator) -> String {
        let pieces = [
            "a", "href", "/ucwa/oauth/v1/applications/105", " ", "é", "€", "😀", "\\n", "\\\"", "\\\\",
            "\\u00e9", "\\ud83d\\ude00", "\\uD800", "\\/", "participantInvitation", "日本語",
        ]
        let count = Int.random(in: 0..<8, using: &rng)
        return "\"" + (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined() + "\""
    }

    static func cuts(_ count: Int, _ rng: inout some RandomNumberGenerator) -> [Int] {
        guard count > 0 else { return [] }
        return (0..<Int.random(in: 1...max(1, count / 2), using: &rng)).map { _ in
            Int.random(in: 0...count, using: &rng)
        }
    }

    static func checkValid(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let text = document(&rng)
        let bytes = Array(text.utf8)
        let whole = tokenize(bytes)
        #expect(whole.error == nil, "\(text): \(whole)")
        #expect(tokenize(bytes, cuts: cuts(bytes.count, &rng)) == whole, "\(text)")
        #expect(tokenizeBytewise(bytes) == whole, "\(text)")
    }

    static func checkMutated(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var bytes = Array(document(&rng).utf8)
        for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.remove(at: at)
            default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
            }
        }
        let whole = tokenize(bytes)
        #expect(tokenize(bytes, cuts: cuts(bytes.count, &rng)) == whole)
        #expect(tokenizeBytewise(bytes) == whole)
    }

    static func checkRandom(_ bytes: [UInt8]) {
        var rng = SplitMix64(seed: UInt64(bytes.count))
        let whole = tokenize(bytes)
        #expect(tokenize(bytes, cuts: cuts(bytes.count, &rng)) == whole)
        #expect(tokenizeBytewise(bytes) == whole)
    }

    @Test func validDocumentsSplitAnywhere() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in Self.checkValid(seed: seed) }
    }

    @Test func mutatedDocumentsSplitAnywhere() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in Self.checkMutated(seed: seed) }
    }

    @Test func randomBytesSplitAnywhere() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...64)) { bytes in Self.checkRandom(bytes) }
    }
}
