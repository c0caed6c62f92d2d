import Foundation

/// The shared test data (`TestPaths.shared`): `testdata/ucwa` (the documentation's samples and
/// the captures) and `testdata/JSONTestSuite`.
package enum SharedTestData {
    package static let ucwa = TestPaths.shared.appendingPathComponent("testdata/ucwa")

    /// A file under `testdata/ucwa`, as a path.
    package static func ucwa(_ relative: String) -> String {
        ucwa.appendingPathComponent(relative).path
    }

    /// The files of a folder under the shared data, sorted by name.
    package static func files(in folder: String) throws -> [URL] {
        let url = TestPaths.shared.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Every `.json` data file (not the `.src.txt` notes) under doc-samples and captures.
    package static func jsonFiles() -> [URL] {
        var result: [URL] = []
        let roots = [ucwa.appendingPathComponent("doc-samples"), ucwa.appendingPathComponent("captures")]
        for root in roots {
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
                continue
            }
            for case let url as URL in walker where url.pathExtension == "json" {
                result.append(url)
            }
        }
        return result.sorted { $0.path < $1.path }
    }

    /// A file's bytes, or none if it cannot be read.
    package static func bytes(_ url: URL) -> [UInt8] {
        (try? Array(Data(contentsOf: url))) ?? []
    }

    /// A file's path under `testdata/ucwa`.
    package static func relative(_ url: URL) -> String {
        String(url.path.dropFirst(ucwa.path.count + 1))
    }

    /// A JSON file by an independent reading (Foundation's parser), a byte order mark skipped.
    package static func foundationObject(_ bytes: [UInt8]) -> Any? {
        var data = Data(bytes)
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
