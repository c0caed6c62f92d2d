/// Comparisons of token bytes against known names, without building a `String`: the batch
/// decoder recognises keys this way so that unknown keys cost nothing but the tokenizer's scan.
enum ByteMatching {
    /// Whether `bytes` spell exactly `literal`.
    @inline(__always)
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let expected = literal.utf8Start
        var i = 0
        while i < count {
            if bytes[i] != expected[i] { return false }
            i += 1
        }
        return true
    }

    /// Whether two byte buffers are equal.
    @inline(__always)
    static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// The bytes of a rel without an `ms:rtc:saas:` or `service:` prefix.
    @inline(__always)
    static func relName(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if hasPrefix(bytes, "ms:rtc:saas:") {
            return UnsafeRawBufferPointer(rebasing: bytes[12...])
        }
        if hasPrefix(bytes, "service:") {
            return UnsafeRawBufferPointer(rebasing: bytes[8...])
        }
        return bytes
    }

    @inline(__always)
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return equals(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), literal)
    }

    /// Whether a rel (prefix dropped) names an invitation resource: `participantInvitation`,
    /// `messagingInvitation`, `onlineMeetingInvitation`, `audioVideoInvitation`, … — every UCWA
    /// invitation rel ends in `Invitation`.
    @inline(__always)
    static func isInvitationRel(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let name = relName(bytes)
        let suffix: StaticString = "Invitation"
        let count = suffix.utf8CodeUnitCount
        guard name.count > count else { return false }
        return equals(UnsafeRawBufferPointer(rebasing: name[(name.count - count)...]), suffix)
    }

    /// A `String` from validated UTF-8 token bytes.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
