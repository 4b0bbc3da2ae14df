import FloorgateCore
import Foundation
import Testing

@Suite("floorgate audit export", .timeLimit(.minutes(2)))
struct AuditExportTests {
    @Test("the trail as CSV, JSON and HTML: every entry, who and when, new rows' values and updates as old → new, passwords withheld, times bounded")
    func export() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let direct = ["--db", scratch.path("record.sqlite"), "--password-rounds", "1000"]
        #expect(try await FloorgateProcess.run(["record", "import", RecordCommandTests.exampleImport] + direct).status == 0)
        let approved = try await FloorgateProcess.run(
            ["record", "approve", "--part", "HX-200", "--part-revision", "C", "--operation", "010", "--revision", "A", "--user", "ada"] + direct,
            input: Array("bench-ada-1\n".utf8))
        #expect(approved.status == 0, "\(approved.standardError)")
        let verified = try await FloorgateProcess.run(["verify"] + direct.prefix(2))
        let entries = try #require(Int(verified.standardOutput.components(separatedBy: ": ").last?.split(separator: " ").first ?? ""), "\(verified.standardOutput)")

        let csv = try await FloorgateProcess.run(["audit", "export", "--format", "csv"] + direct)
        #expect(csv.status == 0, "\(csv.standardError)")
        let lines = csv.standardOutput.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == "seq,at,actor,peer,action,table,row,changes,hash,key_id,signature")
        #expect(lines.filter { $0.first?.isNumber == true }.count == entries, "one line per entry, its changes quoted on lines of their own")
        #expect(csv.standardOutput.contains("status: draft → approved"), "the approval's update, old → new")
        #expect(csv.standardOutput.contains("(withheld: a PBKDF2 key)") && !csv.standardOutput.contains("pbkdf2"), "no password key leaves the record")

        let json = try await FloorgateProcess.run(["audit", "export", "--format", "json"] + direct)
        let document = try JSONValue(parsing: Array(json.standardOutput.utf8))
        let listed = document["entries"]?.arrayValue ?? []
        #expect(listed.count == entries && listed.map { $0["seq"]?.integerValue ?? 0 } == (1...Int64(entries)).map { $0 })
        #expect(listed.allSatisfy { $0["key_id"]?.stringValue?.count == 16 }, "every entry signed by the record's key")

        let html = try await FloorgateProcess.run(["audit", "export", "--format", "html", "--output", scratch.path("audit.html")] + direct)
        #expect(html.status == 0 && html.standardOutput.isEmpty)
        let page = try String(contentsOfFile: scratch.path("audit.html"), encoding: .utf8)
        #expect(page.contains("<p>\(entries) entries.</p>") && page.contains("status: draft → approved") && !page.contains("<script"))

        let future = try await FloorgateProcess.run(["audit", "export", "--format", "json", "--from", "2099-01-01"] + direct)
        #expect(try JSONValue(parsing: Array(future.standardOutput.utf8))["entries"] == .array([]))
        let bad = try await FloorgateProcess.run(["audit", "export", "--to", "yesterday"] + direct)
        #expect(bad.status == 1 && bad.standardError.contains("'yesterday' is not a day"), "\(bad.standardError)")
    }
}
