/// The address a UCWA people or participant href ends in: `…/people/lenea@contoso.com` is
/// `sip:lenea@contoso.com` (the `acceptedByParticipant` of the same SendAnIM sample has that
/// `uri`), `…/participants/tel:+14254996692?endpointId=…` is `tel:+14254996692` (Trusted
/// Application API). A last segment without `@` and without a `sip:`/`sips:`/`tel:` scheme
/// (`…/people/107` in the reference page) names no address: nil.
enum PeopleHref {
    static func address(_ href: String) -> String? {
        var href = href
        // Bytes, not Characters: this runs for most records, on hrefs that mostly name no
        // address (`…/participants/831`), which are rejected without allocating.
        return href.withUTF8 { bytes -> String? in
            var end = bytes.count
            if let stop = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { end = stop }
            guard let slash = bytes[..<end].lastIndex(of: UInt8(ascii: "/")), slash + 1 < end else { return nil }
            let segment = bytes[(slash + 1)..<end]
            let hasScheme =
                hasPrefixIgnoringCase(segment, "sip:") || hasPrefixIgnoringCase(segment, "sips:")
                || hasPrefixIgnoringCase(segment, "tel:") || hasPrefixIgnoringCase(segment, "sip%3a")
                || hasPrefixIgnoringCase(segment, "tel%3a")
            let hasAt = segment.contains(UInt8(ascii: "@")) || containsIgnoringCase(segment, "%40")
            guard hasScheme || hasAt else { return nil }
            let decoded = String(
                decoding: DataURI.percentDecode(ArraySlice(segment), plusIsSpace: false),
                as: UTF8.self
            )
            let lowered = decoded.lowercased()
            if lowered.hasPrefix("sip:") || lowered.hasPrefix("sips:") || lowered.hasPrefix("tel:") { return decoded }
            guard decoded.contains("@"), !decoded.contains(":") else { return nil }
            return "sip:" + decoded
        }
    }

    private static func hasPrefixIgnoringCase(
        _ bytes: Slice<UnsafeBufferPointer<UInt8>>,
        _ prefix: StaticString
    ) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        var index = bytes.startIndex
        for offset in 0..<count {
            if bytes[index] | 0x20 != prefix.utf8Start[offset] | 0x20 { return false }
            index += 1
        }
        return true
    }

    private static func containsIgnoringCase(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ needle: StaticString) -> Bool
    {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if hasPrefixIgnoringCase(bytes[index...], needle) { return true }
            index += 1
        }
        return false
    }
}
