// The JSONSerialization baseline: the same work as our full event model, on Foundation's
// dictionaries — parse each batch whole, walk senders and events, touch every field our model
// decodes.
import Foundation

/// What a baseline decode produced: events, the cross-driver check (see `crossCheck`) and a
/// checksum over every touched field.
package struct BaselineTotals: Sendable {
    package var events = 0
    package var check = 0
    package var touched = 0
    package init() {}
}

/// Decodes every batch with `JSONSerialization` and walks it.
@inline(never)
package func decodeFoundation(_ batches: [[UInt8]]) -> BaselineTotals {
    var totals = BaselineTotals()
    func touch(_ value: Any?) -> Int {
        let count = (value as? String)?.utf8.count ?? 0
        totals.touched &+= count
        return count
    }
    for batch in batches {
        let object = try! JSONSerialization.jsonObject(with: Data(batch)) as! [String: Any]
        if let links = object["_links"] as? [String: Any], let next = links["next"] as? [String: Any] {
            _ = touch(next["href"])
        }
        for sender in object["sender"] as? [[String: Any]] ?? [] {
            _ = touch(sender["rel"])
            let senderHref = touch(sender["href"])
            for event in sender["events"] as? [[String: Any]] ?? [] {
                totals.events += 1
                var check = senderHref
                let link = event["link"] as? [String: Any] ?? [:]
                let linkRel = link["rel"] as? String ?? ""
                _ = touch(linkRel)
                check += touch(link["href"])
                _ = touch(link["title"])
                if let within = event["in"] as? [String: Any] {
                    _ = touch(within["rel"])
                    _ = touch(within["href"])
                }
                _ = touch(event["type"])
                check += touch(event["status"])
                if let reason = event["reason"] as? [String: Any] {
                    check += touch(reason["code"])
                    _ = touch(reason["subcode"])
                    _ = touch(reason["message"])
                }
                if linkRel.hasSuffix("Invitation"), let embedded = event["_embedded"] as? [String: Any],
                    let resource = embedded[linkRel] as? [String: Any]
                {
                    for key in ["direction", "importance", "operationId", "state", "threadId", "to"] {
                        _ = touch(resource[key])
                    }
                    check += touch(resource["subject"])
                    let links = resource["_links"] as? [String: Any]
                    _ = touch((links?["conversation"] as? [String: Any])?["href"])
                    _ = touch((links?["from"] as? [String: Any])?["title"])
                    let from = (resource["_embedded"] as? [String: Any])?["from"] as? [String: Any]
                    _ = touch(from?["name"])
                    _ = touch(from?["uri"])
                }
                totals.check += check
            }
        }
    }
    return totals
}
