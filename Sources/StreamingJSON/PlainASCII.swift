/// Skips printable ASCII eight bytes at a time: the text the JSON writer copies as it is and
/// the record sanitiser passes, which is nearly every byte of a record (hrefs, ids, URIs).
public enum PlainASCII {
    /// The index of the first byte from `start` that is not printable ASCII (0x20–0x7E) or is a
    /// quote or a backslash, or `end`. Such a byte is only where the scan stops: callers look at
    /// it and at what follows one byte at a time.
    @inlinable @inline(__always)
    public static func skip(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        var i = start
        while end &- i >= 8 {
            let word = (base + i).loadUnaligned(as: UInt64.self).littleEndian
            // DEL (0x7F, and 0xFF) gets its high bit once 1 is added to its low seven bits (no
            // carry leaves a byte); quotes, backslashes, controls and non-ASCII as in the tokenizer.
            let delete = ((word & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x0101_0101_0101_0101) & 0x8080_8080_8080_8080
            let special = specialBytes(word) | delete
            if special != 0 { return i &+ special.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < end {
            let b = bytes[i]
            if b < 0x20 || b >= 0x7F || b == 0x22 || b == 0x5C { return i }
            i &+= 1
        }
        return i
    }

    /// A mask with the high bit set in the bytes of `word` (little-endian) that are a quote, a
    /// backslash, a control character or non-ASCII. Borrows can also flag bytes *after* a
    /// flagged one, never before it, so the lowest set bit always marks the first special byte.
    @inlinable @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ 0x2222_2222_2222_2222
        let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasControl = (word &- 0x2020_2020_2020_2020) & ~word
        return (word | hasQuote | hasBackslash | hasControl) & highs
    }
}
