import Testing

@testable import StreamingJSON
@testable import UCWA

/// Texts compare, hash and convert like the strings they hold, whatever storage they share.
@Suite struct UCWATextTests {
    @Test func comparesWithStringsAndLiterals() {
        let text = UCWAText("participantInvitation")
        #expect(text == "participantInvitation")
        #expect(text == String("participantInvitation"))
        #expect("participantInvitation" == text)
        #expect(text != "participant")
        #expect(text.string == "participantInvitation")
        #expect(text.utf8Count == 21)
        #expect(UCWAText("").isEmpty)
        let missing: UCWAText? = nil
        #expect(missing.string == nil)
    }

    @Test func equalTextsHashAlike() {
        let batch = try! EventBatchDecoder.decode(
            Array(
                #"{"sender":[{"rel":"communication","href":"/c","events":[{"link":{"rel":"ms:rtc:saas:participantInvitation","href":"/i"},"type":"started"}]}]}"#
                    .utf8
            )
        )
        let event = batch.events[0]
        // A slice of the event's shared storage equals a text made on its own.
        #expect(event.link.name == UCWAText("participantInvitation"))
        #expect(Set([event.link.name, UCWAText("participantInvitation")]).count == 1)
        #expect(event.link.rel.hasPrefix("ms:rtc:saas:"))
        #expect(UCWAText("a") < UCWAText("b"))
    }

    @Test func unicodeRoundTrips() {
        let text = UCWAText("Zoë — 日本語 😀")
        #expect(text.string == "Zoë — 日本語 😀")
        #expect(text.utf8Count == "Zoë — 日本語 😀".utf8.count)
    }

    @Test func writerEscapesTextBytesLikeStrings() {
        let samples = [
            "plain", "quote\" back\\slash", "ctl\u{1}\u{1F}\n\t", "bidi\u{202E}x\u{2066}", "sep\u{2028}\u{2029}", "é€😀",
            "\u{7F}", "\u{2010}\u{2030}",
        ]
        for sample in samples {
            var fromString = JSONWriter()
            fromString.string(sample)
            var fromBytes = JSONWriter()
            UCWAText(sample).withUTF8 { fromBytes.string(utf8: $0) }
            #expect(fromString.bytes == fromBytes.bytes, "\(sample)")
            // And the result parses back to the same text.
            #expect((try? JSONValue.parse(fromBytes.bytes)) == .string(sample), "\(sample)")
        }
        var writer = JSONWriter()
        writer.string("a\u{202E}b\u{2028}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\u202eb\u2028""#)
    }
}
