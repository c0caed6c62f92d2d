// The one-line report every decoder driver prints (ours, JSONSerialization, and the C
// baselines print the same shape), read by Benchmarks/bench.py.
#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock.
package func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The process's peak resident set in KiB: its own high-water mark (`VmHWM`), not getrusage's
/// `ru_maxrss`, which carries over the parent's peak across fork and exec.
package func peakRSSKiB() -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        if text.hasPrefix("VmHWM:") {
            return Int(text.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
        }
    }
    return -1
}

/// Prints `{"seconds":[…],"bytes":…,"events":…,"check":…,"touched":…,"peak_rss_kib":…}`.
package func printDriverReport(seconds: [Double], bytes: Int, events: Int, check: Int, touched: Int) {
    let list = seconds.map { "\(Int($0 * 1e6))e-6" }.joined(separator: ",")
    print(
        "{\"seconds\":[\(list)],\"bytes\":\(bytes),\"events\":\(events),\"check\":\(check),\"touched\":\(touched),\"peak_rss_kib\":\(peakRSSKiB())}"
    )
}

/// A line on standard error.
package func complain(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
