/// SplitMix64 (Steele, Lea and Flood; Vigna's reference `splitmix64.c`): a small, fast,
/// seedable generator whose sequence is the same on every platform. The daemon draws its retry
/// jitter from it, seeded once from the system generator (jitter only spreads retries over
/// time and needs no secrecy; drawing each number from the system generator would cost a
/// `getrandom` system call per batch); the corpus generator and the property and crash tests
/// use it with a fixed or printed seed, so that a run can be replayed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence follows from `seed`.
    package init(seed: UInt64) {
        state = seed
    }

    /// A generator seeded from the system generator: different in every process.
    package init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}
