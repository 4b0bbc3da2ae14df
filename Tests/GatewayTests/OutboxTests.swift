import FloorgateCore
import Foundation
import GRDB
import NIOPosix
import DeviceIO
@testable import Gateway
import Synchronization
import Testing

@Suite("Outbox", .timeLimit(.minutes(1)))
struct OutboxTests {
    /// An outbox file of this test's own (Swift Testing makes a suite instance per test), removed
    /// with its WAL and shared-memory files when the test ends.
    final class ScratchFile: Sendable {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).sqlite").path

        deinit {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    private let scratch = ScratchFile()
    private var path: String { scratch.path }

    private let normalizer = Normalizer(
        source: "open-protocol 10.0.0.5:4545", kind: .torque, profileName: "atlas-copco-pf6000", unit: .newtonMetre, resolution: nil, deviceSerial: "PF6-0042"
    )

    private func sink(_ outbox: Outbox) -> OutboxSink { OutboxSink(outbox: outbox, normalizer: normalizer) }

    private func result(_ key: String?, torque: Int64 = 739) -> DeviceResult {
        var tightening = TighteningResult()
        tightening.tighteningID = key
        tightening.torque = ExactDecimal(torque, scale: 2)
        return DeviceResult(source: "open-protocol 10.0.0.5:4545", sourceKey: key, event: .tightening(tightening, raw: [0x30, 0x00]))
    }

    @Test("a result stored again under the same key returns the first receipt and writes nothing")
    func exactlyOnce() async throws {
        let journal = try Outbox(path: path)
        let first = try await sink(journal).store(result("0000000017"))
        let again = try await sink(journal).store(result("0000000017", torque: 999))
        #expect(!first.wasAlreadyStored)
        #expect(again.wasAlreadyStored)
        #expect(again.id == first.id)
        #expect(try journal.count() == 1)
        let other = try await sink(journal).store(result("0000000018"))
        #expect(other.id != first.id)
        #expect(try journal.count() == 2)
    }

    @Test("receipt ids are UUIDv7: version 7, RFC variant, increasing with time")
    func idempotencyKeys() async throws {
        let journal = try Outbox(path: path)
        var ids: [String] = []
        for key in 1...5 {
            ids.append(try await sink(journal).store(result(String(key))).id)
            try await Task.sleep(for: .milliseconds(2))
        }
        for id in ids {
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id, "canonical lowercase text")
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
        }
        #expect(ids == ids.sorted())
    }

    @Test("the file is a WAL database written with synchronous=FULL, and survives reopening")
    func durability() async throws {
        do {
            let journal = try Outbox(path: path)
            _ = try await sink(journal).store(result("1"))
            #expect(try journal.pragmas().synchronous == 2)  // FULL
            // Closed, not only dropped: the last connection's close checkpoints the WAL under an
            // exclusive lock, which a reader opened meanwhile would find busy.
            await journal.close()
        }
        let reader = try DatabaseQueue(path: path)
        let mode = try await reader.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let reopened = try Outbox(path: path)
        #expect(try reopened.count() == 1)
        let receipt = try await sink(reopened).store(result("1"))
        #expect(receipt.wasAlreadyStored)
    }

    @Test("numeric key gaps: holes between stored ids, a reset counter's jump ignored, at most the window")
    func gaps() async throws {
        let journal = try Outbox(path: path)
        for key in ["1@t", "2@t", "5@t", "6@t", "9@t", "raw 3031", "5000000@t"] {
            _ = try await sink(journal).store(result(key))
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
        #expect(throws: (any Error).self) { try Outbox(path: "/nonexistent/dir/journal.sqlite") }
    }

    private func reading(_ value: String, source: String = "caliper-1", unit: MeasurementUnit? = .millimetre) throws -> Outbox.Item? {
        let normalizer = Normalizer(source: source, kind: .gauge, profileName: "mitutoyo-dp1va-rs232", unit: nil, resolution: nil, deviceSerial: "CAL-7")
        let event = DeviceEvent.reading(Reading(value: try ExactDecimal(parsing: value), unit: unit), raw: RawBytes(Array(value.utf8)))
        return normalizer.item(for: ReadEvent(event: event, readAt: MonotonicClock.nanoseconds()))
    }

    @Test("results wait in order; settling one records the outcome and the commit time")
    func pendingAndSettled() async throws {
        let outbox = try Outbox(path: path)
        var ids: [String] = []
        for value in ["12.001", "12.002", "12.003"] {
            ids.append(try await outbox.append(try #require(try reading(value))).id)
        }
        let pending = try await outbox.pending().entries
        #expect(pending.map(\.id) == ids)
        #expect(pending[0].result["value"] == "12.001")
        #expect(pending[0].result["unit"] == "mm")
        #expect(pending[0].result["resolution"] == "0.001")
        #expect(pending[0].result["device"]?["serial"] == "CAL-7")
        await outbox.settle(pending[1].sequence, as: .delivered, outcome: #"{"verdict":"pass"}"#)
        #expect(try await outbox.pending().entries.map(\.id) == [ids[0], ids[2]])
        let settled = try #require(try await outbox.all().first { $0.id == ids[1] })
        #expect(settled.state == .delivered && settled.outcome == #"{"verdict":"pass"}"#)
        let committed = try #require(settled.committedAt)
        #expect(committed >= settled.readAt)
    }

    @Test("results that arrive together share a transaction (group commit)")
    func groupCommit() async throws {
        let outbox = try Outbox(path: path)
        let items = try (0..<200).map { try #require(try reading("1.\($0)", source: "gauge-\($0 % 8)")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in items { group.addTask { _ = try await outbox.append(item) } }
            try await group.waitForAll()
        }
        _ = try await outbox.append(try #require(try reading("2.0")))  // writes the commit times held
        let entries = try await outbox.all()
        #expect(entries.count == 201)
        let commitTimes = Set(entries.prefix(200).compactMap(\.committedAt))
        #expect(entries.prefix(200).allSatisfy { $0.committedAt != nil })
        #expect(commitTimes.count < 100, "200 concurrent results took \(commitTimes.count) commits")
    }

    @Test("a reading without a unit, and bytes that were no result, are kept, not delivered")
    func keptNotDelivered() async throws {
        let outbox = try Outbox(path: path)
        let noUnit = try #require(try reading("12.5", unit: nil))
        #expect(noUnit.state == .unbound)
        #expect(noUnit.reason?.contains("no unit") == true)
        _ = try await outbox.append(noUnit)
        let normalizer = Normalizer(source: "caliper-1", kind: .gauge, profileName: "mitutoyo-dp1va-rs232", unit: .millimetre, resolution: nil, deviceSerial: nil)
        let garbage = try #require(normalizer.item(for: ReadEvent(event: .error(.incompleteFrame, raw: RawBytes(Array("01A+00".utf8))), readAt: 1)))
        #expect(garbage.state == .skipped)
        _ = try await outbox.append(garbage)
        #expect(normalizer.item(for: ReadEvent(event: .status(DeviceStatus(state: .lost, message: "unplugged"), raw: RawBytes([])), readAt: 1)) == nil)
        #expect(try await outbox.pending().entries.isEmpty)
        #expect(try await outbox.unbound().count == 1)
        #expect(try await outbox.all().map(\.raw) == [RawBytes(Array("12.5".utf8)), RawBytes(Array("01A+00".utf8))])
    }
}

extension OutboxTests {
    @Test("a file of the JSON-text layout is upgraded in place: every row keeps its result, now as columns")
    func upgradesJSONRows() async throws {
        let old = try DatabaseQueue(path: path)
        try await old.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('create outbox'), ('station state');
                CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, sourceKey TEXT,
                    event TEXT NOT NULL, result TEXT NOT NULL, raw BLOB NOT NULL, measuredAt INTEGER NOT NULL, readNs INTEGER NOT NULL,
                    committedNs INTEGER, state TEXT NOT NULL DEFAULT 'pending', outcome TEXT, UNIQUE (source, sourceKey));
                CREATE INDEX outbox_state ON outbox (state, seq);
                CREATE TABLE station (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                INSERT INTO outbox (id, source, sourceKey, event, result, raw, measuredAt, readNs, committedNs, state, outcome) VALUES
                    ('0190a1b2-0000-7000-8000-000000000001', 'caliper-1', NULL, '{"type":"reading"}',
                     '{"kind":"measure","value":"12.031","unit":"mm","resolution":"0.001","device":{"kind":"gauge","profile":"mitutoyo-dp1va-rs232","serial":"CAL-7"},"raw_hex":"3132"}',
                     x'3132', 1700000000000, 5, 9, 'pending', NULL),
                    ('0190a1b2-0000-7000-8000-000000000002', 'scanner', NULL, '{"type":"scan"}',
                     '{"kind":"scan","text":"SN-0001","aim":"]C0","device":{"kind":"scanner","profile":"scanner-serial","serial":null},"raw_hex":"53"}',
                     x'53', 1700000000001, 6, 10, 'delivered', '{"build_id":1}');
                """)
        }
        let outbox = try Outbox(path: path)
        let entries = try await outbox.all()
        try #require(entries.count == 2)
        #expect(entries[0].payload == .measurement(.measure, value: try ExactDecimal(parsing: "12.031"), unit: .millimetre, resolution: try ExactDecimal(parsing: "0.001"), angle: nil))
        #expect(entries[0].device == Outbox.Device(kind: .gauge, profile: "mitutoyo-dp1va-rs232", serial: "CAL-7"))
        #expect(entries[0].committedAt == 9 && entries[0].state == .pending)
        #expect(entries[1].payload == .scan(text: "SN-0001", aim: "]C0"))
        #expect(entries[1].state == .delivered && entries[1].outcome == #"{"build_id":1}"#)
        // The upgraded file takes new rows after the old ones.
        _ = try await outbox.append(try #require(try reading("1.5")))
        #expect(try await outbox.all().map(\.sequence) == [1, 2, 3])
    }

    @Test("a row this gateway cannot read is refused with its row and column, not read as something else")
    func unreadableRow() async throws {
        let outbox = try Outbox(path: path)
        _ = try await outbox.append(try #require(try reading("1.5")))
        let editor = try DatabaseQueue(path: path)
        try await editor.write { db in try db.execute(sql: "UPDATE outbox SET unit = 'furlong'") }
        await #expect(throws: OutboxFileError(sequence: 1, column: "unit", found: "furlong")) { try await outbox.all() }
        await #expect(throws: (any Error).self, "a state the gateway does not know cannot even be written") {
            try await editor.write { db in try db.execute(sql: "UPDATE outbox SET state = 'lost'") }
        }
    }

    @Test("a device is read no further than `depth` results ahead of its commits, and resumed once one commits")
    func commitGate() async throws {
        final class Resumes: Sendable {
            let count = Mutex(0)
        }
        let gate = CommitGate(depth: 2)
        let resumes = Resumes()
        let resume: @Sendable () -> Void = { resumes.count.withLock { $0 += 1 } }
        gate.queued()
        #expect(gate.mayRead(orResume: resume))
        gate.queued()
        #expect(!gate.mayRead(orResume: resume), "two wait: reading holds")
        #expect(resumes.count.withLock { $0 } == 0)
        gate.committed()
        #expect(resumes.count.withLock { $0 } == 1, "the held read is resumed once, when one commits")
        gate.committed()
        #expect(resumes.count.withLock { $0 } == 1)
        #expect(gate.mayRead(orResume: resume))

        // Through the outbox: the writer counts each commit back.
        let outbox = try Outbox(path: path)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        for value in ["1.1", "1.2", "1.3"] { outbox.submit(try #require(try reading(value)), through: gate, from: eventLoop) }
        let deadline = ContinuousClock.now + .seconds(10)
        while gate.waiting > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        #expect(gate.waiting == 0)
        #expect(try await outbox.all().compactMap { $0.payload?.value?.description } == ["1.1", "1.2", "1.3"])
    }

    @Test("committed rows reach the drainer from memory, and past the memory's limit it is told to read the file")
    func committedInMemory() async throws {
        let outbox = try Outbox(path: path)
        _ = try await outbox.append(try #require(try reading("2.1")))
        _ = try await outbox.append(try #require(try reading("2.2")))
        #expect(outbox.takeCommitted()?.map(\.sequence) == [1, 2])
        #expect(outbox.takeCommitted() == [])
        let held = CommittedEntries(limit: 1)
        let entries = try await outbox.all()
        held.publish(entries)
        #expect(held.take() == nil, "more than the limit: read the file")
        held.publish([entries[0]])
        #expect(held.take() == [entries[0]])
    }
}
