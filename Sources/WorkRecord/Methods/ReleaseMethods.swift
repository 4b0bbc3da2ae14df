import FloorgateCore
import RecordProtocol

/// What became of the units of one work order, read from their builds, their nonconformances'
/// dispositions and their releases: each build's outcome, and the counts the DHR states.
struct WorkOrderStanding {
    /// A build's outcome: `open`; `accepted` (closed by quality); `reworked` (accepted after a
    /// rework disposition); `scrapped` or `rejected` (a scrap or return disposition).
    private(set) var outcomes: [Int64: String] = [:]
    /// Each unit: its operations' outcomes, the operations whose build is closed, whether a
    /// nonconformance on it waits for its disposition, and whether it is released.
    private struct Unit {
        var operations: [String: String] = [:]
        var closed: Set<String> = []
        var undecided = false
        var released = false

        func lost(_ outcome: String) -> Bool { operations.values.contains(outcome) }
    }

    private var units: [String: Unit] = [:]
    private let required: [String]

    static func load(workOrder number: String, _ transaction: any RecordTransaction) async throws -> WorkOrderStanding {
        guard let order = try await transaction.row("SELECT id, operations FROM work_order WHERE number = ?", number) else {
            throw WorkRecordError(.notFound, "no work order \(number)")
        }
        let id: Int64 = order["id"]
        var standing = WorkOrderStanding(required: try WorkOrderRoute(storedText: order["operations"]).operations.filter { !$0.isOptional }.map(\.code))
        let builds = try await transaction.rows(
            "SELECT s.serial, b.id, b.operation, b.status FROM build b JOIN unit_serial s ON s.id = b.serial_id WHERE s.work_order_id = ?", id)
        var dispositions: [Int64: [String?]] = [:]
        for row in try await transaction.rows(
            """
            SELECT n.build_id, d.disposition FROM nonconformance n JOIN build b ON b.id = n.build_id
            JOIN unit_serial s ON s.id = b.serial_id LEFT JOIN nc_disposition d ON d.nc_id = n.id WHERE s.work_order_id = ?
            """, id)
        {
            dispositions[row["build_id"], default: []].append(row["disposition"])
        }
        let released = Set(try await transaction.rows(
            "SELECT s.serial FROM unit_release r JOIN unit_serial s ON s.id = r.serial_id WHERE s.work_order_id = ?", id
        ).map { $0["serial"] as String })
        for build in builds {
            let taken = dispositions[build["id"]] ?? []
            let outcome =
                if taken.contains("scrap") { "scrapped" } else if taken.contains("return") { "rejected" } else if build["status"] as String == "open" { "open" } else if taken.contains("rework") { "reworked" } else { "accepted" }
            standing.outcomes[build["id"]] = outcome
            let serial: String = build["serial"]
            var unit = standing.units[serial] ?? Unit(released: released.contains(serial))
            unit.operations[build["operation"]] = outcome
            if build["status"] as String == "complete" { unit.closed.insert(build["operation"]) }
            if taken.contains(nil) { unit.undecided = true }
            standing.units[serial] = unit
        }
        return standing
    }

    private init(required: [String]) {
        self.required = required
    }

    /// Why `serial` may not be released yet, or nil when it may.
    func refusal(toRelease serial: String) -> String? {
        guard let unit = units[serial] else { return "serial \(serial) has no build yet" }
        if let lost = unit.operations.first(where: { ["scrapped", "rejected"].contains($0.value) }) {
            return "serial \(serial) was \(lost.value) in operation \(lost.key)"
        }
        if unit.undecided { return "serial \(serial) has a nonconformance without a disposition" }
        let missing = required.filter { !["accepted", "reworked"].contains(unit.operations[$0] ?? "") }
        guard missing.isEmpty else { return "serial \(serial) has not been accepted in operation \(missing.joined(separator: ", ")) of its route" }
        return nil
    }

    /// How many of the work order's units are released for distribution.
    var released: Int { units.values.filter(\.released).count }

    /// The work order's counts of units: started (a build opened), completed (the build of every
    /// required operation closed), accepted (completed, none scrapped or rejected), scrapped,
    /// rejected, released for distribution.
    var counts: JSONValue {
        let started = Array(units.values)
        let completed = started.filter { unit in required.allSatisfy(unit.closed.contains) }
        func count(_ units: [Unit]) -> JSONValue { .integer(Int64(units.count)) }
        return [
            "started": count(started), "completed": count(completed),
            "accepted": count(completed.filter { !$0.lost("scrapped") && !$0.lost("rejected") }),
            "scrapped": count(started.filter { $0.lost("scrapped") }), "rejected": count(started.filter { $0.lost("rejected") }),
            "released": .integer(Int64(released)),
        ]
    }
}

/// `unit.release`: quality releases one unit for distribution, signed, once every required
/// operation of its route was accepted and nothing about it is scrapped, rejected or undecided.
enum ReleaseMethods {
    static func release(_ context: MethodContext) async throws -> RecordOutcome {
        let serial = try context.params.string("serial")
        guard let unit = try await context.transaction.row(
            "SELECT s.id, w.number FROM unit_serial s JOIN work_order w ON w.id = s.work_order_id WHERE s.serial = ?", serial)
        else { throw WorkRecordError(.unknownSerial, "serial '\(serial)' is not on any work order") }
        let serialID: Int64 = unit["id"]
        if let earlier = try await context.transaction.row("SELECT released_at FROM unit_release WHERE serial_id = ?", serialID) {
            throw WorkRecordError(.conflict, "serial \(serial) was released already, at \(earlier["released_at"] as String)")
        }
        let standing = try await WorkOrderStanding.load(workOrder: unit["number"], context.transaction)
        if let refusal = standing.refusal(toRelease: serial) {
            throw WorkRecordError(.invalidState, refusal + "; it cannot be released")
        }
        let signed = try await context.signer.sign(
            try SignatureInput(context.params), role: .quality, meaning: .approved, recordType: "unit_serial", recordID: serialID,
            subject: "release of serial \(serial) for distribution")
        let id = try await context.writer.insert(
            "unit_release", ["serial_id": serialID, "signature_id": signed.id, "released_at": signed.signedAt], action: "unit.release")
        return RecordOutcome([
            "serial": .string(serial), "release_id": .integer(id), "released_at": .string(signed.signedAt), "signature_id": .integer(signed.id),
            "work_order": .string(unit["number"]), "work_order_released": .integer(Int64(standing.released + 1)),
        ])
    }
}
