import Foundation
import Testing
import UCWATestSupport

@testable import StreamingJSON

/// Conformance against JSONTestSuite's `test_parsing` (../shared/testdata/JSONTestSuite): every
/// `y_` accepted, every `n_` rejected, and every `i_` decided as listed in `implementationChoices`.
@Suite struct JSONTestSuiteTests {
    static let folder = "testdata/JSONTestSuite/test_parsing"

    static func cases(prefix: String) -> [String] {
        ((try? SharedTestData.files(in: folder)) ?? [])
            .map(\.lastPathComponent)
            .filter { $0.hasPrefix(prefix) }
    }

    /// Our choice for each implementation-defined case: `true` accepted, `false` rejected.
    ///
    /// - Huge, tiny or overflowing numbers are accepted: numbers are kept as lexemes.
    /// - Escaped lone or mispaired surrogates (`"\uD800"`) are accepted and become U+FFFD, so
    ///   that an event whose subject carries one is not lost and every string stays valid UTF-8.
    /// - Raw bytes that are not UTF-8 (Latin-1, UTF-16, encoded surrogates, overlongs,
    ///   truncated or out-of-range sequences) are rejected: RFC 8259 §8.1 requires UTF-8.
    /// - 500 nested arrays exceed the default depth limit of 64 and are rejected.
    /// - A leading UTF-8 BOM is accepted (UCWA and Trusted-App servers send one).
    static let implementationChoices: [String: Bool] = [
        "i_number_double_huge_neg_exp.json": true,
        "i_number_huge_exp.json": true,
        "i_number_neg_int_huge_exp.json": true,
        "i_number_pos_double_huge_exp.json": true,
        "i_number_real_neg_overflow.json": true,
        "i_number_real_pos_overflow.json": true,
        "i_number_real_underflow.json": true,
        "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true,
        "i_number_very_big_negative_int.json": true,
        "i_object_key_lone_2nd_surrogate.json": true,
        "i_string_1st_surrogate_but_2nd_missing.json": true,
        "i_string_1st_valid_surrogate_2nd_invalid.json": true,
        "i_string_UTF-16LE_with_BOM.json": false,
        "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false,
        "i_string_incomplete_surrogate_and_escape_valid.json": true,
        "i_string_incomplete_surrogate_pair.json": true,
        "i_string_incomplete_surrogates_escape_valid.json": true,
        "i_string_invalid_lonely_surrogate.json": true,
        "i_string_invalid_surrogate.json": true,
        "i_string_invalid_utf-8.json": false,
        "i_string_inverted_surrogates_U+1D11E.json": true,
        "i_string_iso_latin_1.json": false,
        "i_string_lone_second_surrogate.json": true,
        "i_string_lone_utf8_continuation_byte.json": false,
        "i_string_not_in_unicode_range.json": false,
        "i_string_overlong_sequence_2_bytes.json": false,
        "i_string_overlong_sequence_6_bytes.json": false,
        "i_string_overlong_sequence_6_bytes_null.json": false,
        "i_string_truncated-utf-8.json": false,
        "i_string_utf16BE_no_BOM.json": false,
        "i_string_utf16LE_no_BOM.json": false,
        "i_structure_500_nested_arrays.json": false,
        "i_structure_UTF-8_BOM_empty_object.json": true,
    ]

    static func load(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: TestPaths.shared.appendingPathComponent(folder).appendingPathComponent(name)))
    }

    @Test func suiteIsPresent() {
        #expect(Self.cases(prefix: "y_").count == 95)
        #expect(Self.cases(prefix: "n_").count == 188)
        #expect(Self.cases(prefix: "i_").count == 35)
    }

    @Test(arguments: cases(prefix: "y_"))
    func accepts(_ name: String) throws {
        let bytes = try Self.load(name)
        let whole = tokenize(bytes)
        #expect(whole.error == nil, "\(name): \(whole)")
        #expect(tokenizeBytewise(bytes) == whole, "\(name): split input differs")
    }

    @Test(arguments: cases(prefix: "n_"))
    func rejects(_ name: String) throws {
        let bytes = try Self.load(name)
        let whole = tokenize(bytes)
        #expect(whole.error != nil, "\(name) was accepted")
        #expect(tokenizeBytewise(bytes) == whole, "\(name): split input differs")
    }

    @Test(arguments: cases(prefix: "i_"))
    func decidesImplementationDefined(_ name: String) throws {
        let choice = try #require(Self.implementationChoices[name] as Bool?, "no documented choice for \(name)")
        let bytes = try Self.load(name)
        let whole = tokenize(bytes)
        #expect((whole.error == nil) == choice, "\(name): \(whole)")
        #expect(tokenizeBytewise(bytes) == whole, "\(name): split input differs")
    }
}
