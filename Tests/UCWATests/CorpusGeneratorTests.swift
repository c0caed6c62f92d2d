import Foundation
import Testing

@testable import StreamingJSON
@testable import UCWA
@testable import UCWACorpus

/// The generated corpus is valid, deterministic, and decodes the same whole or split.
@Suite struct CorpusGeneratorTests {
    @Test func batchesAreValidAndDeterministic() throws {
        let first = CorpusGenerator.corpus(bytes: 2 << 20, seed: 7)
        let again = CorpusGenerator.corpus(bytes: 2 << 20, seed: 7)
        #expect(first == again)
        var events = 0
        for batch in first {
            let decoded = try EventBatchDecoder.decode(batch)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(batch)) as? [String: Any])
            let expected = (object["sender"] as? [[String: Any]] ?? []).reduce(0) {
                $0 + (($1["events"] as? [Any])?.count ?? 0)
            }
            #expect(decoded.events.count == expected)
            #expect((1...50).contains(decoded.events.count))
            #expect(decoded.links[.next] != nil)
            events += decoded.events.count
        }
        #expect(events > 1000)
    }

    @Test func streamedBatchDecodesInPieces() throws {
        var generator = CorpusGenerator(seed: 3)
        var decoder = EventBatchDecoder(consumer: EventBatchCollector())
        var failure: JSONError?
        generator.streamBatch(events: 500) { piece in
            do throws(JSONError) { try decoder.feed(piece) } catch { failure = error }
        }
        #expect(failure == nil)
        try decoder.finish()
        #expect(decoder.consumer.events.count == 500)
        #expect(decoder.consumer.events.contains { $0.invitation?.subject != nil })
        #expect(decoder.consumer.events.contains { $0.reason != nil })
    }
}
