import FloorgateCore
import Foundation
import GRDB
import Gateway
import Testing

@Suite("SQLite result journal")
struct SQLiteResultJournalTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).sqlite").path
    }

    private func result(_ key: String?, torque: Int64 = 739) -> DeviceResult {
        var tightening = TighteningResult()
        tightening.tighteningID = key
        tightening.torque = ExactDecimal(torque, scale: 2)
        return DeviceResult(source: "open-protocol 10.0.0.5:4545", sourceKey: key, event: .tightening(tightening, raw: [0x30, 0x00]))
    }

    @Test("a result stored again under the same key returns the first receipt and writes nothing")
    func exactlyOnce() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try SQLiteResultJournal(path: path)
        let first = try await journal.store(result("0000000017"))
        let again = try await journal.store(result("0000000017", torque: 999))
        #expect(!first.wasAlreadyStored)
        #expect(again.wasAlreadyStored)
        #expect(again.id == first.id)
        #expect(try journal.count() == 1)
        let other = try await journal.store(result("0000000018"))
        #expect(other.id != first.id)
        #expect(try journal.count() == 2)
    }

    @Test("receipt ids are UUIDv7: version 7, RFC variant, increasing with time")
    func idempotencyKeys() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try SQLiteResultJournal(path: path)
        var ids: [String] = []
        for key in 1...5 {
            ids.append(try await journal.store(result(String(key))).id)
            try await Task.sleep(for: .milliseconds(2))
        }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
        }
        #expect(ids == ids.sorted())
    }

    @Test("the file is a WAL database written with synchronous=FULL, and survives reopening")
    func durability() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let journal = try SQLiteResultJournal(path: path)
            _ = try await journal.store(result("1"))
            #expect(try journal.synchronousMode() == 2)  // FULL
        }
        let reader = try DatabaseQueue(path: path)
        let mode = try await reader.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let reopened = try SQLiteResultJournal(path: path)
        #expect(try reopened.count() == 1)
        let receipt = try await reopened.store(result("1"))
        #expect(receipt.wasAlreadyStored)
    }

    @Test("numeric key gaps: holes between stored ids, a reset counter's jump ignored, at most the window")
    func gaps() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try SQLiteResultJournal(path: path)
        for key in ["1@t", "2@t", "5@t", "6@t", "9@t", "raw 3031", "5000000@t"] {
            _ = try await journal.store(result(key))
        }
        let gaps = try await journal.numericKeyGaps(source: "open-protocol 10.0.0.5:4545", window: 100)
        #expect(gaps.missing == [3, 4, 7, 8])
        #expect(gaps.highest == 5_000_000)
        let narrow = try await journal.numericKeyGaps(source: "open-protocol 10.0.0.5:4545", window: 3)
        #expect(narrow.missing == [7, 8])  // the window holds 6, 9 and 5000000
        #expect(narrow.highest == 5_000_000)
        let other = try await journal.numericKeyGaps(source: "open-protocol elsewhere:4545", window: 100)
        #expect(other.missing.isEmpty && other.highest == nil)
    }

    @Test("a journal path that cannot be opened is refused with an error")
    func badPath() {
        #expect(throws: (any Error).self) { try SQLiteResultJournal(path: "/nonexistent/dir/journal.sqlite") }
    }
}
