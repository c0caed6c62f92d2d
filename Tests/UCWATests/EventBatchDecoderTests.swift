import Testing

@testable import StreamingJSON
@testable import UCWA

/// The batch decoder on hand-written batches: field order, streaming emission, shape errors.
@Suite struct EventBatchDecoderTests {
    func decode(_ text: String) throws -> EventBatchCollector {
        try EventBatchDecoder.decode(Array(text.utf8))
    }

    @Test func allEventFieldsAreDecoded() throws {
        let batch = try decode(
            #"""
            {"sender":[{"rel":"communication","href":"/c","events":[
              {"link":{"rel":"participantInvitation","href":"/c/inv/1","title":"Zoë"},
               "in":{"rel":"participants","href":"/c/conv/1/participants","title":"x"},
               "status":"Failure","reason":{"code":"RemoteFailure","subcode":"Declined","message":"No.","debugInfo":{"a":[1]}},
               "_embedded":{"participantInvitation":{"state":"Declined","direction":"Outgoing","unknown":[{"x":1}]}},
               "type":"completed","extra":{"deep":[[[]]]}}]}],
             "_links":{"self":{"href":"/e?ack=1"},"next":{"href":"/e?ack=2"}},"baseuri":"https://pool"}
            """#
        )
        #expect(batch.links == [.self: "/e?ack=1", .next: "/e?ack=2"])
        #expect(batch.baseURI == "https://pool")
        let event = try #require(batch.events.first)
        #expect(event.sender == UCWALink(rel: "communication", href: "/c"))
        #expect(event.link == UCWALink(rel: "participantInvitation", href: "/c/inv/1", title: "Zoë"))
        #expect(event.in == UCWALink(rel: "participants", href: "/c/conv/1/participants", title: "x"))
        #expect(event.type == .completed)
        #expect(event.status == "Failure")
        #expect(event.reason == UCWAReason(code: "RemoteFailure", subcode: "Declined", message: "No."))
        #expect(event.invitation?.state == "Declined")
        #expect(event.invitation?.direction == "Outgoing")
    }

    @Test func sendersAfterEventsAndEmbeddedBeforeLink() throws {
        let batch = try decode(
            #"""
            {"sender":[{"events":[{"_embedded":{"messagingInvitation":{"state":"Connecting"}},
                                   "type":"started","link":{"href":"/m/1","rel":"messagingInvitation"}},
                                  {"link":{"href":"/m/1","rel":"messagingInvitation"},"type":"updated"}],
                        "href":"/comm","rel":"communication"},
                       {"rel":"conversation","href":"/conv","events":[{"link":{"rel":"participant","href":"/p"},"type":"added"}]}]}
            """#
        )
        #expect(batch.events.map(\.sender.rel) == ["communication", "communication", "conversation"])
        #expect(batch.events.map(\.sender.href) == ["/comm", "/comm", "/conv"])
        #expect(batch.events.map(\.position.ordinal) == [0, 1, 2])
        #expect(batch.events.map(\.position.senderIndex) == [0, 0, 1])
        #expect(batch.events.map(\.position.eventIndex) == [0, 1, 0])
        #expect(batch.events[0].invitation?.state == "Connecting")
    }

    /// Only invitations are kept from `_embedded`: any other resource, whatever its shape, is
    /// skipped like an unknown value, and the event is decoded as it would be without it.
    @Test func embeddedNonInvitationsAreSkipped() throws {
        let resources = [
            #"{"rel":"participant","name":"A","n":[1,true,null]}"#, #"[1,{"a":"b"}]"#, #""x""#, "4", "true",
        ]
        for resource in resources {
            let text =
                #"{"sender":[{"rel":"conversation","href":"/c","events":[{"link":{"rel":"localParticipant","href":"/p"},"_embedded":{"localParticipant":"#
                + resource + #"},"type":"added"}]}]}"#
            let batch = try decode(text)
            #expect(batch.events.count == 1, "\(resource)")
            #expect(batch.events.first?.embedded == nil, "\(resource)")
            #expect(batch.events.first?.link.href == "/p", "\(resource)")
            #expect(batch.events.first?.type == .added, "\(resource)")
        }
    }

    @Test func prefixedRelsAreNormalised() throws {
        let batch = try decode(
            #"{"_links":{"ms:rtc:saas:next":{"href":"/n"}},"sender":[{"rel":"service:communication","href":"/c","events":[{"link":{"rel":"ms:rtc:saas:participantInvitation","href":"/i"},"_embedded":{"participantInvitation":{"state":"Connected"}},"type":"completed"}]}]}"#
        )
        #expect(batch.links[.next] == "/n")
        let event = try #require(batch.events.first)
        #expect(event.sender.name == "communication")
        #expect(event.link.name == "participantInvitation")
        #expect(event.invitation?.state == "Connected")
    }

    @Test func emptyBatches() throws {
        #expect(try decode(#"{"_links":{"next":{"href":"/n"}}}"#).events.isEmpty)
        #expect(try decode(#"{"sender":[],"_links":{"next":{"href":"/n"}}}"#).events.isEmpty)
        #expect(try decode(#"{"sender":null}"#).events.isEmpty)
        #expect(try decode("{}").events.isEmpty)
    }

    @Test func eventsAreHandedOnAsTheirObjectCloses() throws {
        let text = Array(
            #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"x","href":"/1"},"type":"added"},{"link":{"rel":"x","href":"/2"},"type":"added"}]}]}"#
                .utf8
        )
        let firstClose = text.indices.first { text[$0...].starts(with: Array(#"},{"link""#.utf8)) }!
        var decoder = EventBatchDecoder(consumer: EventBatchCollector())
        try decoder.feed(text[..<(firstClose + 1)])
        #expect(decoder.consumer.events.map(\.link.href) == ["/1"])
        try decoder.feed(text[(firstClose + 1)...])
        try decoder.finish()
        #expect(decoder.consumer.events.map(\.link.href) == ["/1", "/2"])
    }

    @Test func shapeErrorsAreLocated() throws {
        let cases: [(String, String)] = [
            (#"[1]"#, "line 1, column 1 (byte 0): an event batch must be a JSON object, found an array"),
            (#""events""#, "line 1, column 1 (byte 0): an event batch must be a JSON object, found a string"),
            (#"{"sender":5}"#, "line 1, column 11 (byte 10): \"sender\" must be an array, found a number"),
            (
                #"{"sender":[7]}"#,
                "line 1, column 12 (byte 11): each element of \"sender\" must be an object, found a number"
            ),
            (
                #"{"sender":[{"events":{}}]}"#,
                "line 1, column 22 (byte 21): \"sender[].events\" must be an array, found an object"
            ),
            (
                #"{"sender":[{"rel":"c","href":"/c","events":["x"]}]}"#,
                "line 1, column 45 (byte 44): each element of \"events\" must be an object, found a string"
            ),
            (
                #"{"sender":[{"rel":"c","href":"/c","events":[{"type":"added"}]}]}"#,
                "line 1, column 60 (byte 59): event 0 of sender 0 has no link with a rel and an href"
            ),
            (
                #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"x","href":5}}]}]}"#,
                "line 1, column 71 (byte 70): \"link.href\" must be a string, found a number"
            ),
            (
                #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"x","href":"/x"},"reason":{"message":"m"}}]}]}"#,
                "line 1, column 101 (byte 100): event 0 of sender 0 has a reason without a code"
            ),
            (
                #"{"_links":{"next":"/n"}}"#,
                "line 1, column 19 (byte 18): \"_links.next\" must be an object, found a string"
            ),
        ]
        for (text, message) in cases {
            let error = try #require(throws: JSONError.self) { _ = try decode(text) }
            #expect(error.description == message, "\(text)")
        }
    }

    @Test func documentLimitOnTheEventChannel() throws {
        #expect(JSONLimits.eventChannel.maxDocumentBytes == 1 << 30)
        let limits = JSONLimits(maxDocumentBytes: 100)
        let text =
            #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"x","href":"/1"},"type":"added"},{"link":{"rel":"x","href":"/2"},"type":"added"}]}]}"#
        let error = try #require(throws: JSONError.self) {
            _ = try EventBatchDecoder.decode(Array(text.utf8), limits: limits)
        }
        #expect(error.kind == .documentTooLarge(limit: 100))
    }
}

/// A decoder reset between bodies decodes each like a fresh one, even after a failure.
@Suite struct EventBatchDecoderResetTests {
    @Test func resetDecodesTheNextBodyLikeAFreshDecoder() throws {
        let bodies = [
            #"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"participantInvitation","href":"/1"},"_embedded":{"participantInvitation":{"state":"Connected"}},"type":"completed"}]}],"_links":{"next":{"href":"/n1"}}}"#,
            // truncated:
            #"{"sender":[{"events":[{"link":{"rel":"x","href":"/2"},"type":"added"}],"rel":"late","href":"/late"}"#,
            #"{"sender":[{"rel":"d","href":"/d","events":[{"link":{"rel":"y","href":"/3"},"type":"updated"}]}],"_links":{"resync":{"href":"/r"}}}"#,
        ]
        var reused = EventBatchDecoder(consumer: EventBatchCollector())
        for body in bodies {
            reused.reset()
            reused.consumer = EventBatchCollector()
            var fresh = EventBatchDecoder(consumer: EventBatchCollector())
            let freshError = Result { () throws(JSONError) in
                try fresh.feed(Array(body.utf8))
                try fresh.finish()
            }
            let reusedError = Result { () throws(JSONError) in
                try reused.feed(Array(body.utf8))
                try reused.finish()
            }
            #expect(reused.consumer.events == fresh.consumer.events)
            #expect(reused.consumer.links == fresh.consumer.links)
            #expect((try? freshError.get()) != nil ? (try? reusedError.get()) != nil : (try? reusedError.get()) == nil)
            #expect(reused.eventCount == fresh.eventCount)
        }
    }
}

/// Empty strings are texts like any other (fuzz finding: an embedded invitation whose only
/// field was "" crashed the decoder).
@Suite struct EmptyTextTests {
    @Test func emptyFieldsDecode() throws {
        let batch = try EventBatchDecoder.decode(
            Array(
                #"{"sender":[{"rel":"","href":"","events":[{"link":{"rel":"participantInvitation","href":"","title":""},"status":"","reason":{"code":"","subcode":"","message":""},"_embedded":{"participantInvitation":{"state":"","subject":""}},"type":""}]}]}"#
                    .utf8
            )
        )
        let event = try #require(batch.events.first)
        #expect(event.link.href == "")
        #expect(event.link.href.isEmpty)
        #expect(event.link.title == "")
        #expect(event.status == "")
        #expect(event.reason == UCWAReason(code: "", subcode: "", message: ""))
        #expect(event.invitation?.state == "")
        #expect(event.invitation?.subject?.string == "")
        #expect(event.sender == UCWALink(rel: "", href: ""))
        #expect(event.type == .other(""))
        let allEmpty = try EventBatchDecoder.decode(
            Array(#"{"sender":[{"rel":"c","href":"/c","events":[{"link":{"rel":"","href":""},"type":"added"}]}]}"#.utf8)
        )
        #expect(allEmpty.events.first?.link == UCWALink(rel: "", href: ""))
        let resource = try InvitationResource.decode(Array(#"{"state":"","_links":{"conversation":{"href":""}}}"#.utf8))
        #expect(resource.state == "")
        #expect(resource.conversationHref == "")
    }
}
