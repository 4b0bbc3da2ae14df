import FloorgateCore
import RecordProtocol

/// A work order's route: its operations in the order a unit goes through them. Each is required
/// unless marked optional; a unit may not open an operation while a required one before it is
/// incomplete. Stored in `work_order.operations` as JSON: a required operation as its code, an
/// optional one as `{"operation": "015", "optional": true}`.
struct WorkOrderRoute: Sendable, Hashable {
    struct Operation: Sendable, Hashable {
        var code: String
        var isOptional: Bool
    }

    let operations: [Operation]

    /// The route as `record.import` gives it; errors name the entry at `path`.
    init(importing entries: [JSONValue], path: String) throws(WorkRecordError) {
        var operations: [Operation] = []
        for (index, entry) in entries.enumerated() {
            switch entry {
            case .string(let code) where !code.isEmpty:
                operations.append(Operation(code: code, isOptional: false))
            case .object(let members):
                guard let code = members["operation"]?.stringValue, !code.isEmpty else {
                    throw WorkRecordError(.invalidParams, "\(path)[\(index)].operation must be a non-empty string")
                }
                switch members["optional"] {
                case nil: operations.append(Operation(code: code, isOptional: false))
                case .bool(let optional)?: operations.append(Operation(code: code, isOptional: optional))
                default: throw WorkRecordError(.invalidParams, "\(path)[\(index)].optional must be true or false")
                }
            default:
                throw WorkRecordError(.invalidParams, "\(path)[\(index)] must be an operation's code or {\"operation\": code, \"optional\": true}")
            }
        }
        guard !operations.isEmpty else { throw WorkRecordError(.invalidParams, "\(path) must list at least one operation") }
        guard Set(operations.map(\.code)).count == operations.count else {
            throw WorkRecordError(.invalidParams, "\(path) lists an operation twice")
        }
        self.operations = operations
    }

    /// The route as `work_order.operations` holds it.
    init(storedText text: String) throws(WorkRecordError) {
        try self.init(importing: try JSONValue(recordText: Array(text.utf8)).arrayValue ?? [], path: "work_order.operations")
    }

    /// The text `work_order.operations` holds.
    var storedText: String {
        JSONValue.array(operations.map { $0.isOptional ? ["operation": .string($0.code), "optional": true] : .string($0.code) }).text
    }

    /// The operations' codes, in route order.
    var codes: [String] { operations.map(\.code) }

    /// The operations a unit may open now, given those it has a build of: after the last one it
    /// started (an optional operation passed over stays passed over), every optional operation up
    /// to, and including, the first required one. Empty when the unit is through its route.
    func openable(started: (String) -> Bool) -> [Operation] {
        let next = (operations.lastIndex { started($0.code) }).map { $0 + 1 } ?? 0
        var openable: [Operation] = []
        for operation in operations[next...] {
            openable.append(operation)
            if !operation.isOptional { break }
        }
        return openable
    }
}

/// Which operations each station may open: the newest `station_route` row of each station
/// (`record.import`'s `stations`, changed later by a signed `route.set`). A record that names no
/// station lets every station open every operation: one station's own record.
struct StationRoutes: Sendable {
    private let operationsByStation: [String: Set<String>]

    static func load(_ transaction: any RecordTransaction) async throws -> StationRoutes {
        let rows = try await transaction.rows(
            "SELECT station, operations FROM station_route WHERE id IN (SELECT MAX(id) FROM station_route GROUP BY station)")
        var operations: [String: Set<String>] = [:]
        for row in rows {
            let codes = try JSONValue(recordText: Array((row["operations"] as String).utf8)).arrayValue?.compactMap(\.stringValue) ?? []
            operations[row["station"]] = Set(codes)
        }
        return StationRoutes(operationsByStation: operations)
    }

    /// Whether `station` may open `operation`.
    func allows(_ station: String, _ operation: String) -> Bool {
        operationsByStation.isEmpty || operationsByStation[station]?.contains(operation) == true
    }

    /// The stations that may open `operation`, by name; empty when every station may.
    func stations(for operation: String) -> [String] {
        operationsByStation.filter { $0.value.contains(operation) }.keys.sorted()
    }

    /// Where `operation` is done, in an operator's words.
    func whereDone(_ operation: String) -> String {
        let stations = stations(for: operation)
        switch stations.count {
        case 0: return "no station yet (engineering must route it with route.set)"
        case 1: return "station \(stations[0])"
        default: return "stations \(stations.joined(separator: ", "))"
        }
    }
}
