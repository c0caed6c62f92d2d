import StreamingJSON

/// The simulated directory: contact and participant resources with a display name for the
/// addresses it knows.
extension SimulatorServer {
    /// The simulated directory: display names by address (others get none).
    static let directory = ["alice@contoso.com": "Alice Smith", "alice": "Alice Smith", "bob@contoso.com": "Bob Jones"]

    /// A contact (`…/people/<address>`) or participant (`…/participants/<address>`) resource.
    func person(_ id: String, participant: Bool, responder: Responder) {
        stats.peopleRequests += 1
        // Percent-decoded only (a `+` in `tel:+1…` stays a plus).
        let address = Self.formDecode(Substring(id.map { $0 == "+" ? "%2B" : String($0) }.joined()))
        var members: [(String, JSONValue)] = []
        if let name = Self.directory[address] { members.append(("name", .string(name))) }
        if address.contains("@") { members.append(("uri", .string("sip:" + address))) }
        members.append(("rel", .string(rel(participant ? "participant" : "contact"))))
        responder.send(status: 200, body: SimulatorDocuments.bytes(SimulatorDocuments.object(members)))
    }
}
