import NIOCore
import StreamingJSON

/// The application resource of the simulated server: created (or found again for the same
/// endpoint and user agent) by `POST …/applications`, deleted by `DELETE`, and retired with
/// its parked poll and outstanding events.
extension SimulatorServer {
    /// `POST …/applications`: 201 with a new application, or 200 with the live one of the same
    /// pool, endpoint and user agent; events queued while none was alive go to a new one.
    func createApplication(_ request: SimulatorRequest, pool: String, responder: Responder) {
        guard let body = try? JSONValue.parse(request.body),
            let endpointID = (body["endpointId"] ?? body["EndpointId"])?.stringValue,
            let userAgent = (body["userAgent"] ?? body["UserAgent"])?.stringValue,
            let culture = (body["culture"] ?? body["Culture"])?.stringValue
        else {
            responder.send(
                status: 400,
                body: SimulatorDocuments.error(
                    code: "BadRequest",
                    subcode: "ParameterValidationFailure",
                    message: "culture, endpointId and userAgent are required."
                )
            )
            return
        }
        let application: Application
        var status = 200
        if let existing = applications.values.first(where: {
            !$0.gone && $0.pool == pool && $0.endpointID == endpointID && $0.userAgent == userAgent
        }) {
            application = existing
        } else {
            application = Application(
                id: nextApplicationID,
                pool: pool,
                endpointID: endpointID,
                userAgent: userAgent,
                culture: culture
            )
            nextApplicationID += 1
            applications[application.id] = application
            stats.applicationsCreated += 1
            status = 201
            let waiting = unassigned
            unassigned.removeAll()
            for event in waiting { enqueue(event) }
        }
        let document = SimulatorDocuments.object([
            ("culture", .string(culture)), ("endpointId", .string(endpointID)),
            ("id", .string("app-\(application.id)")),
            ("type", .string("Browser")), ("userAgent", .string(userAgent)),
            (
                "_links",
                SimulatorDocuments.links([
                    ("self", application.path), ("policies", application.path + "/policies"),
                    ("batch", application.path + "/batch"),
                    ("events", application.eventsHref(ack: application.nextBatch)),
                ])
            ),
            ("rel", .string("application")),
        ])
        responder.send(
            status: status,
            headers: [("ETag", "\"\(application.id)\"")],
            body: SimulatorDocuments.bytes(document)
        )
    }

    /// `DELETE` on an application: retires it (204), or 404 when there is no such live one.
    func deleteApplication(_ id: Int, responder: Responder) {
        guard let application = applications[id], !application.gone else {
            responder.send(
                status: 404,
                body: SimulatorDocuments.error(
                    code: "NotFound",
                    subcode: "ApplicationNotFound",
                    message: "The application does not exist."
                )
            )
            return
        }
        retire(application)
        responder.send(status: 204, body: [])
    }

    func retire(_ application: Application) {
        application.gone = true
        application.parked?.timer?.cancel()
        application.parked = nil
        stats.eventsOutstanding -= application.queue.count + application.sent.values.reduce(0) { $0 + $1.eventCount }
    }
}
