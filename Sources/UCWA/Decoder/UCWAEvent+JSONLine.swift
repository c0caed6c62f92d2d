import StreamingJSON

extension UCWAEvent {
    /// The event as one compact JSON object (no trailing newline), keys in a fixed order and
    /// absent values omitted. This is what `ucwa-eventd replay` prints per event until the
    /// lifecycle records of DESIGN.md §3 replace it. Strings go through `JSONWriter`, so control
    /// and bidi characters arrive escaped.
    public func writeJSONLine(into writer: inout JSONWriter, source: String? = nil) {
        writer.raw("{")
        var first = true
        func field(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            writer.key(name, first: first)
            first = false
            writer.string(value)
        }
        func field(_ name: StaticString, _ value: UCWAText?) {
            guard let value else { return }
            writer.key(name, first: first)
            first = false
            value.withUTF8 { writer.string(utf8: $0) }
        }
        field("source", source)
        writer.key("ordinal", first: first)
        first = false
        writer.raw(String(position.ordinal).utf8)
        field("sender_rel", sender.rel.isEmpty ? nil : sender.rel)
        field("sender_href", sender.href.isEmpty ? nil : sender.href)
        field("link_rel", link.rel)
        field("link_href", link.href)
        field("link_title", link.title)
        field("in_rel", self.in?.rel)
        field("in_href", self.in?.href)
        field("type", type?.description)
        field("status", status)
        field("reason_code", reason?.code)
        field("reason_subcode", reason?.subcode)
        field("reason_message", reason?.message)
        switch embedded {
        case .invitation(let invitation):
            field("embedded", "invitation")
            field("state", invitation.state)
            field("direction", invitation.direction)
            field("importance", invitation.importance)
            field("operation_id", invitation.operationId)
            field("subject", invitation.subject)
            field("thread_id", invitation.threadId)
            field("to_uri", invitation.to)
            field("from_uri", invitation.fromURI)
            field("from_name", invitation.inviterName)
            field("conversation_href", invitation.conversationHref)
        case nil:
            break
        }
        writer.raw("}")
    }
}
