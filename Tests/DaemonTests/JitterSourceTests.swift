import Testing

@testable import Eventd

@Suite struct JitterSourceTests {
    /// The retry jitter's numbers: reproducible from a seed, spread over [0, 1), and different
    /// from one daemon to the next (seeded from the system generator), so that many daemons
    /// that lost the same server do not retry in step.
    @Test func drawsSpreadOverTheUnitIntervalAndFollowTheSeed() {
        var a = JitterSource(seed: 42)
        var b = JitterSource(seed: 42)
        let drawsA = (0..<10_000).map { _ in Double.random(in: 0..<1, using: &a) }
        let drawsB = (0..<10_000).map { _ in Double.random(in: 0..<1, using: &b) }
        #expect(drawsA == drawsB)
        #expect(drawsA.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = drawsA.reduce(0, +) / Double(drawsA.count)
        #expect(abs(mean - 0.5) < 0.02)
        // Every tenth of the interval gets its share (1 000 expected; ±20 %).
        var deciles = [Int](repeating: 0, count: 10)
        for draw in drawsA { deciles[Int(draw * 10)] += 1 }
        #expect(deciles.allSatisfy { (800...1200).contains($0) }, "\(deciles)")
    }

    @Test func unseededSourcesDiffer() {
        var a = JitterSource()
        var b = JitterSource()
        #expect((0..<4).map { _ in a.next() } != (0..<4).map { _ in b.next() })
    }
}
