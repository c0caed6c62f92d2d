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

/// One participant invitation and the events of its walk through the lifecycle.
struct SimulatedInvitation {
    var id: Int
    var href: String
    var conversationHref: String
    var operationID: String
    var threadID: String
    var script: InvitationScript
    var state: String
    var completed = false

    func resource(rel: (String) -> String) -> JSONValue {
        SimulatorDocuments.object([
            ("direction", .string("Outgoing")),
            ("importance", .string("Normal")),
            ("operationId", .string(operationID)),
            ("state", .string(state)),
            ("subject", .string(script.subject)),
            ("threadId", .string(threadID)),
            ("to", .string(script.to)),
            ("_links", SimulatorDocuments.object([
                ("self", SimulatorDocuments.link(href)),
                (rel("conversation"), SimulatorDocuments.link(conversationHref)),
                (rel("from"), SimulatorDocuments.link(conversationHref + "/participants/alice", title: "Alice Smith")),
                (rel("cancel"), SimulatorDocuments.link(href + "/cancel")),
            ])),
            ("rel", .string(rel("participantInvitation"))),
        ])
    }
}
