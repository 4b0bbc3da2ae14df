import Crypto
import FloorgateCore
import Foundation
import GRDB
import Testing

/// `floorgate record import` with step pictures named by file beside the JSON.
@Suite("Pictures imported from files", .timeLimit(.minutes(1)))
struct StepPictureCommandTests {
    static let drawing = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20"><title>bore</title><circle cx="10" cy="10" r="8" fill="none" stroke="black"/></svg>"#

    static func document(picture file: String) -> String {
        """
        {"parts": [{"number": "HX-500", "revision": "A"}],
         "instructions": [{"part": "HX-500", "part_revision": "A", "operation": "010", "revision": "A", "title": "Bore",
           "steps": [{"key": "10", "title": "Check bore", "pictures": [{"file": "\(file)", "caption": "gauge position"}],
                      "points": [{"name": "bore", "kind": "measure", "unit": "mm", "lower": "11.98", "upper": "12.02"}]}]}]}
        """
    }

    @Test("a picture file beside the import is put into the record and the step names it by its hash; a refused one names the file")
    func importWithPictures() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let db = scratch.path("record.sqlite")
        try Self.drawing.write(toFile: scratch.path("bore.svg"), atomically: true, encoding: .utf8)
        try Self.document(picture: "bore.svg").write(toFile: scratch.path("import.json"), atomically: true, encoding: .utf8)
        let imported = try await FloorgateProcess.run(["record", "import", scratch.path("import.json"), "--db", db, "--password-rounds", "1000"])
        #expect(imported.status == 0, "\(imported.standardError)")
        // The draft's step names the picture by the hash of the file's bytes, and the record holds them.
        let hash = DeviceEvent.hex(Array(SHA256.hash(data: Array(Self.drawing.utf8))))
        let (content, size) = try await DatabaseQueue(path: db).read { database in
            (try String.fetchOne(database, sql: "SELECT content FROM instruction") ?? "", try Int.fetchOne(database, sql: "SELECT size FROM media WHERE hash = ?", arguments: [hash]))
        }
        #expect(content.contains(#""pictures":[{"caption":"gauge position","hash":"\#(hash)"}]"#), "\(content)")
        #expect(size == Self.drawing.utf8.count)

        try #"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.write(toFile: scratch.path("bad.svg"), atomically: true, encoding: .utf8)
        try Self.document(picture: "bad.svg").replacingOccurrences(of: "HX-500", with: "HX-501").write(toFile: scratch.path("bad.json"), atomically: true, encoding: .utf8)
        let refused = try await FloorgateProcess.run(["record", "import", scratch.path("bad.json"), "--db", db, "--password-rounds", "1000"])
        #expect(refused.status == 1 && refused.standardError.contains("instructions[0].steps[0].pictures[0]") && refused.standardError.contains("bad.svg")
            && refused.standardError.contains("element <script> is not allowed") && refused.standardError.contains("record error 1033"), "\(refused.standardError)")
        let missing = try await FloorgateProcess.run(["record", "import", scratch.path("import.json").replacingOccurrences(of: "import.json", with: "nowhere/import.json"), "--db", db])
        #expect(missing.status == 2)
    }
}
