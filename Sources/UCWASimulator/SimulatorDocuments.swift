import StreamingJSON

/// The JSON documents the simulator answers with, shaped as the UCWA docs show them.
enum SimulatorDocuments {
    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(members.map { JSONValue.Member($0.0, $0.1) })
    }

    static func link(_ href: String, title: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [("href", .string(href))]
        if let title { members.append(("title", .string(title))) }
        return object(members)
    }

    static func links(_ pairs: [(String, String)]) -> JSONValue {
        object(pairs.map { ($0.0, link($0.1)) })
    }

    static func bytes(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(value)
        return writer.bytes
    }

    static func error(code: String, subcode: String? = nil, message: String) -> [UInt8] {
        var members: [(String, JSONValue)] = [("code", .string(code))]
        if let subcode { members.append(("subcode", .string(subcode))) }
        members.append(("message", .string(message)))
        return bytes(object(members))
    }
}

/// One invitation and the events of its walk through the lifecycle.
struct SimulatedInvitation {
    var id: Int
    var href: String
    var conversationHref: String
    /// The application's `people` collection (contacts: `…/people/<address>`).
    var peopleHref: String
    var operationID: String
    var threadID: String
    var script: InvitationScript
    var state: String
    var completed = false

    /// The resource in its current state, shaped as the UCWA samples show each field.
    /// `absolutePaths`: hrefs start with `/` even when batches carry them relative to a late
    /// `baseuri` (a GET answer's hrefs resolve against its own URL).
    func resource(rel: (String) -> String, absolutePaths: Bool = false) -> JSONValue {
        let href = absolutePaths && !href.hasPrefix("/") ? "/" + href : href
        let conversationHref =
            absolutePaths && !conversationHref.hasPrefix("/") ? "/" + conversationHref : conversationHref
        let peopleHref = absolutePaths && !peopleHref.hasPrefix("/") ? "/" + peopleHref : peopleHref
        var members: [(String, JSONValue)] = [
            ("direction", .string("Outgoing")),
            ("importance", .string("Normal")),
            ("operationId", .string(operationID)),
            ("state", .string(state)),
            ("subject", .string(script.subject)),
            ("threadId", .string(threadID)),
        ]
        if !script.toAsLink { members.append(("to", .string(script.to))) }
        if let onBehalfOf = script.onBehalfOf { members.append(("onBehalfOf", .string(onBehalfOf))) }
        if script.kind == "onlineMeetingInvitation" {
            members.append(
                ("onlineMeetingUri", .string("sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:SIM\(id)"))
            )
            members.append(("availableModalities", .array([.string("Messaging"), .string("Audio")])))
        }
        let participants = conversationHref + "/participants/"
        var links: [(String, JSONValue)] = [
            ("self", SimulatorDocuments.link(href)),
            (rel("conversation"), SimulatorDocuments.link(conversationHref)),
            (
                rel("from"),
                script.fromLinkOnly
                    ? SimulatorDocuments.link(participants + "alice@contoso.com")
                    : SimulatorDocuments.link(participants + "alice", title: "Alice Smith")
            ),
            (rel("cancel"), SimulatorDocuments.link(href + "/cancel")),
        ]
        let address = script.to.hasPrefix("sip:") ? String(script.to.dropFirst(4)) : script.to
        if script.toAsLink {
            // The invitee as the reference page links it: a contact and a participant. (Only in
            // this shape, so that the benchmark's default invitations keep their size.)
            links.append((rel("to"), SimulatorDocuments.link(peopleHref + "/" + address, title: script.toName)))
            links.append((rel("participant"), SimulatorDocuments.link(participants + address)))
        }
        if let message = script.message {
            links.append(
                (rel("message"), SimulatorDocuments.link("data:text/plain;charset=utf-8," + Self.formEncode(message)))
            )
        }
        members.append(("_links", SimulatorDocuments.object(links)))
        if state == "Connected", let accepted = script.acceptedBy {
            let participant = SimulatorDocuments.object([
                ("name", .string(accepted.name)), ("uri", .string(accepted.uri)),
                ("_links", SimulatorDocuments.object([("self", SimulatorDocuments.link(participants + address))])),
                ("rel", .string(rel("participant"))),
            ])
            members.append(
                ("_embedded", SimulatorDocuments.object([(rel("acceptedByParticipant"), .array([participant]))]))
            )
        }
        members.append(("rel", .string(rel(script.kind))))
        return SimulatorDocuments.object(members)
    }

    /// Form-style percent-encoding, spaces as `+`, as UCWA writes `data:` message texts.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
