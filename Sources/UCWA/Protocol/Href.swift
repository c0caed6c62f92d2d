/// URL references as UCWA uses them: hrefs may be relative (resolved against `baseuri` or the
/// URL that served them, RFC 3986 §5), and carry server query parameters (`ack`, `key`, …)
/// that must be kept verbatim; the client only ever adds or replaces its own (`timeout`).
package enum Href {
    /// The five parts of a URI reference (RFC 3986 §3); absent parts are nil.
    struct Parts: Equatable {
        var scheme: Substring?
        var authority: Substring?
        var path: Substring
        var query: Substring?
        var fragment: Substring?

        /// Splits on the ASCII delimiters, searching the UTF-8 bytes (delimiters are ASCII, so
        /// every split falls on a scalar boundary).
        init(_ text: String) {
            var rest = Substring(text)
            if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) {
                fragment = rest[rest.utf8.index(after: hash)...]
                rest = rest[..<hash]
            }
            if let mark = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
                query = rest[rest.utf8.index(after: mark)...]
                rest = rest[..<mark]
            }
            // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§3.1)
            if let colon = rest.utf8.firstIndex(of: UInt8(ascii: ":")) {
                let candidate = rest.utf8[..<colon]
                if let first = candidate.first, Self.isLetter(first),
                    candidate.allSatisfy({
                        Self.isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E
                    })
                {
                    scheme = rest[..<colon]
                    rest = rest[rest.utf8.index(after: colon)...]
                }
            }
            if rest.utf8.starts(with: "//".utf8) {
                let afterSlashes = rest[rest.utf8.index(rest.startIndex, offsetBy: 2)...]
                let end = afterSlashes.utf8.firstIndex(of: UInt8(ascii: "/")) ?? afterSlashes.endIndex
                authority = afterSlashes[..<end]
                rest = afterSlashes[end...]
            }
            path = rest
        }

        static func isLetter(_ byte: UInt8) -> Bool {
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }

        var text: String {
            var out = ""
            if let scheme { out += scheme + ":" }
            if let authority { out += "//" + authority }
            out += path
            if let query { out += "?" + query }
            if let fragment { out += "#" + fragment }
            return out
        }
    }

    /// Resolves `reference` against the absolute URL `base` (RFC 3986 §5.2.2). Returns nil when
    /// `base` is not absolute. An absolute reference comes back unchanged.
    package static func resolve(_ reference: String, against base: String) -> String? {
        let r = Parts(reference)
        if r.scheme != nil { return reference }
        let b = Parts(base)
        guard b.scheme != nil, b.authority != nil else { return nil }
        var t = Parts("")
        t.scheme = b.scheme
        t.fragment = r.fragment
        if r.authority != nil {
            t.authority = r.authority
            t.path = Substring(removeDotSegments(String(r.path)))
            t.query = r.query
        } else {
            t.authority = b.authority
            if r.path.isEmpty {
                t.path = b.path
                t.query = r.query ?? b.query
            } else {
                if r.path.hasPrefix("/") {
                    t.path = Substring(removeDotSegments(String(r.path)))
                } else {
                    // Merge (§5.2.3): the base path up to its last "/", then the reference.
                    let merged: String
                    if b.path.isEmpty {
                        merged = "/" + r.path
                    } else if let slash = b.path.lastIndex(of: "/") {
                        merged = String(b.path[...slash] + r.path)
                    } else {
                        merged = String(r.path)
                    }
                    t.path = Substring(removeDotSegments(merged))
                }
                t.query = r.query
            }
        }
        return t.text
    }

    /// An absolute base URL parsed once, for resolving the many hrefs of one batch against it:
    /// a path-absolute href without dot segments (nearly every UCWA href) is the base's
    /// `scheme://authority` followed by the href; anything else goes through `resolve`.
    package struct Base: Sendable {
        let url: String
        private let origin: String?

        package init(_ url: String) {
            let parts = Parts(url)
            if let scheme = parts.scheme, let authority = parts.authority {
                self.init(url: url, origin: "\(scheme)://\(authority)")
            } else {
                self.init(url: url, origin: nil)
            }
        }

        private init(url: String, origin: String?) {
            self.url = url
            self.origin = origin
        }

        /// The same as `init(url)`, without parsing when `url` is on the origin of `previous`
        /// (records of fetched resources each have their own URL as base, nearly always on
        /// one origin).
        init(_ url: String, after previous: Base?) {
            if let previous, let origin = previous.origin, url.utf8.starts(with: origin.utf8) {
                let rest = url.utf8.dropFirst(origin.utf8.count)
                if let next = rest.first,
                    next == UInt8(ascii: "/") || next == UInt8(ascii: "?") || next == UInt8(ascii: "#")
                {
                    self.init(url: url, origin: origin)
                    return
                }
            }
            self.init(url)
        }

        /// The same result as `Href.resolve(reference, against: url)`.
        func resolve(_ reference: String) -> String? {
            var reference = reference
            let fast = reference.withUTF8 { isPlainPathAbsolute(UnsafeRawBufferPointer($0)) }
            if fast, let origin { return origin + reference }
            return Href.resolve(reference, against: url)
        }

        /// The same for a decoded text: a plain path-absolute href becomes one string, built
        /// from the origin and the text's bytes in a single allocation.
        package func resolve(_ reference: UCWAText) -> String? {
            reference.withUTF8 { bytes -> String? in
                guard isPlainPathAbsolute(bytes), var head = origin else { return resolve(reference.string) }
                return head.withUTF8 { head in
                    String(unsafeUninitializedCapacity: head.count + bytes.count) { buffer in
                        _ = UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, from: head)
                        UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[head.count...])
                            .copyMemory(from: bytes)
                        return head.count + bytes.count
                    }
                }
            }
        }

        /// `/x…` but not `//host…`, without a dot segment: origin + href is the resolution.
        @inline(__always)
        private func isPlainPathAbsolute(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard origin != nil, bytes.count > 0, bytes[0] == UInt8(ascii: "/"),
                bytes.count == 1 || bytes[1] != UInt8(ascii: "/")
            else {
                return false
            }
            // Nearly every UCWA href has no dot at all: one memchr.
            guard memchrDot(bytes) else { return true }
            return !Self.mayHaveDotSegment(bytes)
        }

        @inline(__always)
        private func memchrDot(_ bytes: UnsafeRawBufferPointer) -> Bool {
            bytes.withMemoryRebound(to: UInt8.self) { $0.contains(UInt8(ascii: ".")) }
        }

        /// Whether the path of `bytes` (up to `?` or `#`) has a `/.` (every dot segment starts
        /// so in a path-absolute reference). Dots in the query — `endpointId=sip:a@b.com` in
        /// every Trusted Application API href — do not send the href down the slow path.
        static func mayHaveDotSegment(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var previousWasSlash = false
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "?"), UInt8(ascii: "#"): return false
                case UInt8(ascii: "."): if previousWasSlash { return true }
                default: break
                }
                previousWasSlash = byte == UInt8(ascii: "/")
            }
            return false
        }
    }

    /// RFC 3986 §5.2.4.
    static func removeDotSegments(_ path: String) -> String {
        // Without a "." there is no dot segment: nearly every UCWA path.
        guard path.utf8.contains(UInt8(ascii: ".")) else { return path }
        var input = Substring(path)
        var output: [Substring] = []
        var trailingSlash = false
        let absolute = input.hasPrefix("/")
        let segments = input.split(separator: "/", omittingEmptySubsequences: false)
        input = ""
        for (index, segment) in segments.enumerated() {
            if index == 0 && absolute { continue }
            let last = index == segments.count - 1
            switch segment {
            case ".":
                trailingSlash = last
            case "..":
                if !output.isEmpty { output.removeLast() }
                trailingSlash = last
            default:
                output.append(segment)
                trailingSlash = false
            }
        }
        var result = (absolute ? "/" : "") + output.joined(separator: "/")
        if trailingSlash, !result.hasSuffix("/") { result += "/" }
        return result
    }

    /// `scheme://authority` of an absolute URL, lower-cased (the "pool" a token belongs to).
    static func origin(of url: String) -> String? {
        let parts = Parts(url)
        guard let scheme = parts.scheme, let authority = parts.authority else { return nil }
        return (scheme + "://" + authority).lowercased()
    }

    /// The host of an absolute URL, lower-cased, without port, user info or IPv6 brackets.
    package static func host(of url: String) -> String? {
        guard var authority = Parts(url).authority else { return nil }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
        }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return authority.lowercased()
    }

    package static func scheme(of url: String) -> String? {
        Parts(url).scheme.map { $0.lowercased() }
    }

    /// The value of query parameter `name` (not percent-decoded), or nil.
    package static func queryValue(_ name: String, in url: String) -> String? {
        guard let query = Parts(url).query else { return nil }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }

    /// `url` with query parameter `name` set to `value` (percent-encoded): replaced where it
    /// is, or appended; every other parameter, and their order, kept verbatim.
    static func settingQuery(_ name: String, to value: String, in url: String) -> String {
        var parts = Parts(url)
        let encoded = FormEncoding.escape(name) + "=" + FormEncoding.escape(value)
        var pairs =
            parts.query.map { $0.split(separator: "&", omittingEmptySubsequences: false).map(String.init) } ?? []
        if pairs == [""] { pairs = [] }
        if let index = pairs.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") }) {
            pairs[index] = encoded
        } else {
            pairs.append(encoded)
        }
        let joined = pairs.joined(separator: "&")
        parts.query = Substring(joined)
        return parts.text
    }

    /// `url` without query parameter `name` (every other parameter kept verbatim).
    static func removingQuery(_ name: String, from url: String) -> String {
        var parts = Parts(url)
        guard let query = parts.query else { return url }
        let kept = query.split(separator: "&", omittingEmptySubsequences: false)
            .filter { !($0 == Substring(name) || $0.hasPrefix(name + "=")) }
        parts.query = kept.isEmpty ? nil : Substring(kept.joined(separator: "&"))
        return parts.text
    }
}
