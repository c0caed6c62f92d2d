// Foundation's JSONSerialization as its own process for `make bench` (kept apart from
// DecoderDriver so that Foundation's libraries do not count in our decoder's peak RSS).
//
//   FoundationDriver corpus FILE PASSES
import BenchmarkSupport
import FoundationBaseline

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 3, arguments[0] == "corpus", let passes = Int(arguments[2]) else {
    complain("usage: FoundationDriver corpus FILE PASSES")
    exit(2)
}
do {
    let batches = try BenchData.readCorpus(arguments[1])
    var seconds: [Double] = []
    var totals = BaselineTotals()
    for _ in 0..<passes {
        let start = monotonicSeconds()
        totals = decodeFoundation(batches)
        seconds.append(monotonicSeconds() - start)
    }
    printDriverReport(
        seconds: seconds,
        bytes: batches.reduce(0) { $0 + $1.count },
        events: totals.events,
        check: totals.check,
        touched: totals.touched
    )
} catch {
    complain("FoundationDriver: \(error)")
    exit(1)
}
