// libFuzzer target for the INI configuration parser, built only by `make fuzz`. Any input must
// either parse or fail with an error that names the file and a line within the input; a crash,
// a hang or another error shape traps and libFuzzer saves the input.
#if FUZZING
import FuzzSupport
import Eventd

@_cdecl("LLVMFuzzerTestOneInput")
package func fuzzConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try ConfigurationLoader.parse(text, file: "fuzz.conf")
        precondition((180...1800).contains(configuration.timeoutSeconds), "a value outside its range was accepted")
        precondition((1...64).contains(configuration.resolveConcurrency), "a value outside its range was accepted")
        _ = ConfigurationLoader.describe(configuration)
    } catch {
        let description = error.description
        precondition(description.hasPrefix("fuzz.conf:"), "an error without its file: \(description)")
        let line = description.dropFirst("fuzz.conf:".count).prefix { $0.isNumber }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).count
        precondition(
            Int(line).map { (1...max(1, lines)).contains($0) } == true,
            "an error with a wrong line: \(description)"
        )
    }
    return 0
}

@_cdecl("FuzzConfiguration_main")
package func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzConfiguration)
}
#else
@main
struct FuzzConfiguration {
    static func main() {
        print("FuzzConfiguration is a libFuzzer target: run `make fuzz`.")
    }
}
#endif
