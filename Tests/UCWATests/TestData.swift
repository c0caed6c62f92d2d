import Foundation

/// The shared test data (`$UCWA_SHARED`, else `../shared` beside the repository).
enum TestData {
    static let shared: URL = {
        if let path = ProcessInfo.processInfo.environment["UCWA_SHARED"] {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
    }()

    static let ucwa = shared.appendingPathComponent("testdata/ucwa")

    /// Every `.json` data file (not the `.src.txt` notes) under doc-samples and captures.
    static func jsonFiles() -> [URL] {
        var result: [URL] = []
        let roots = [ucwa.appendingPathComponent("doc-samples"), ucwa.appendingPathComponent("captures")]
        for root in roots {
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "json" {
                result.append(url)
            }
        }
        return result.sorted { $0.path < $1.path }
    }

    static func bytes(_ url: URL) -> [UInt8] {
        (try? Array(Data(contentsOf: url))) ?? []
    }

    static func relative(_ url: URL) -> String {
        String(url.path.dropFirst(ucwa.path.count + 1))
    }

    /// Whether a JSON file is an event batch by an independent reading (Foundation's parser):
    /// an object with `sender` or with `_links.next`/`resume`/`resync`.
    static func foundationObject(_ bytes: [UInt8]) -> Any? {
        var data = Data(bytes)
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
