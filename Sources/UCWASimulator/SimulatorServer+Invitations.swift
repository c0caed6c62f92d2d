import NIOCore
import StreamingJSON

/// The simulated invitations: the events of a scripted lifecycle queued for the live
/// application (or kept until one exists), arbitrary events for other rels, and the
/// invitation resource that answers with the state of the last event sent about it.
extension SimulatorServer {
    func play(_ script: InvitationScript) -> String {
        let id = nextInvitationID
        nextInvitationID += 1
        let pool = liveApplication?.pool ?? (options.redirectUser ? "/pool2" : "")
        let application = liveApplication?.id ?? nextApplicationID
        // With a late baseuri the hrefs are relative to it alone (no leading "/").
        let root = options.lateBaseURI ? String("\(pool)/ucwa".dropFirst()) : "\(pool)/ucwa"
        let applicationPath = "\(root)/oauth/v1/applications/\(application)"
        let base = applicationPath + "/communication"
        var invitation = SimulatedInvitation(
            id: id,
            href: "\(base)/\(script.kind)s/\(id)",
            conversationHref: "\(base)/conversations/\(id)",
            peopleHref: applicationPath + "/people",
            operationID: "op-\(id)",
            threadID: "thread-\(id)",
            script: script,
            state: "Connecting"
        )
        var events: [(JSONValue, String, Bool)] = []
        if script.withStarted { events.append((invitationEvent(invitation, type: "started"), invitation.state, false)) }
        if script.withAlerting {
            invitation.state = "Alerting"
            events.append((invitationEvent(invitation, type: "updated"), invitation.state, false))
        }
        invitation.state = script.outcome.finalState
        events.append((invitationEvent(invitation, type: "completed"), invitation.state, true))
        // The resource answers GETs with the state of the last event sent about it.
        invitation.state = "Connecting"
        invitations[id] = invitation
        // All events of the script are queued before a parked poll is released: one batch.
        for (event, state, completed) in events {
            enqueue(
                QueuedEvent(
                    senderRel: rel("communication"),
                    senderHref: base,
                    event: event,
                    invitation: (id, state, completed)
                ),
                release: false
            )
        }
        if let application = liveApplication { releaseParkedPoll(of: application) }
        return invitation.href
    }

    /// Queues an arbitrary event (for rels other than invitations).
    func deliver(senderRel: String, senderHref: String, event: JSONValue) {
        enqueue(QueuedEvent(senderRel: senderRel, senderHref: senderHref, event: event, invitation: nil))
    }

    private func invitationEvent(_ invitation: SimulatedInvitation, type: String) -> JSONValue {
        var members: [(String, JSONValue)] = [
            (
                "link",
                SimulatorDocuments.object([
                    ("rel", .string(rel(invitation.script.kind))), ("href", .string(invitation.href)),
                ])
            )
        ]
        if options.embedResources {
            members.append(
                (
                    "_embedded",
                    SimulatorDocuments.object([
                        (rel(invitation.script.kind), invitation.resource(rel: rel))
                    ])
                )
            )
        }
        if type == "completed" {
            switch invitation.script.outcome {
            case .connected:
                members.append(("status", .string("Success")))
            case .failed(let code, let subcode, let message):
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string(code)), ("subcode", .string(subcode)), ("message", .string(message)),
                        ])
                    )
                )
            case .declined:
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string("RemoteFailure")), ("subcode", .string("Declined")),
                            ("message", .string("Your invitation was declined.")),
                        ])
                    )
                )
            case .cancelled:
                members.append(("status", .string("Failure")))
                members.append(
                    (
                        "reason",
                        SimulatorDocuments.object([
                            ("code", .string("LocalFailure")), ("subcode", .string("Canceled")),
                        ])
                    )
                )
            }
        }
        members.append(("type", .string(type)))
        return SimulatorDocuments.object(members)
    }

    /// Queues an event for the live application (releasing its parked poll unless `release` is
    /// false), or keeps it for the next application when none is alive.
    func enqueue(_ event: QueuedEvent, release: Bool = true) {
        guard let application = liveApplication else {
            unassigned.append(event)
            return
        }
        application.queue.append(event)
        stats.eventsOutstanding += 1
        if release { releaseParkedPoll(of: application) }
    }

    // MARK: Invitation resources

    /// `GET` on an invitation: its resource, or a fault's status, or 404 once it is gone;
    /// answered after a delay under `slowInvitation`.
    func invitation(_ number: Int, responder: Responder) {
        if case .invitationStatus(let status)? = takeFault(where: {
            if case .invitationStatus = $0 { true } else { false }
        }) {
            responder.send(
                status: status,
                body: SimulatorDocuments.error(
                    code: status == 404 ? "NotFound" : "ServiceFailure",
                    message: "Simulated failure."
                )
            )
            return
        }
        let answer: @Sendable () -> Void = { [self] in
            guard let invitation = invitations[number], !(options.completedInvitationsGone && invitation.completed)
            else {
                responder.send(
                    status: 404,
                    body: SimulatorDocuments.error(
                        code: "NotFound",
                        subcode: "ResourceNotFound",
                        message: "The invitation no longer exists."
                    )
                )
                return
            }
            responder.send(
                status: 200,
                body: SimulatorDocuments.bytes(invitation.resource(rel: rel, absolutePaths: true))
            )
        }
        if case .slowInvitation(let delay)? = takeFault(where: { if case .slowInvitation = $0 { true } else { false } })
        {
            loop.scheduleTask(in: TimeAmount(delay)) { answer() }
        } else {
            answer()
        }
    }
}
