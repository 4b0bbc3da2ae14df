import FloorgateCore
import RecordProtocol

/// `route.set`: which operations a station may open from now on, signed by an engineer. Each
/// change is a new `station_route` row; the newest row of a station is its route, and the rows
/// before it are the history of who routed what, when.
enum RouteMethods {
    static func set(_ context: MethodContext) async throws -> RecordOutcome {
        let station = try context.params.string("station")
        // The row this signature approves is written next, under the same writer's lock.
        let routeID = try await AuditedWriter.nextID("station_route", context.transaction)
        let signed = try await context.signer.sign(
            try SignatureInput(context.params), role: .engineer, meaning: .approved, recordType: "station_route", recordID: routeID,
            subject: "route of station \(station): operations \(try context.params.array("operations").map(\.text).joined(separator: ", "))")
        let id = try await record(context.params, writer: context.writer, signatureID: signed.id)
        return RecordOutcome([
            "station": .string(station), "operations": .array(try context.params.array("operations")), "route_id": .integer(id),
            "signature_id": .integer(signed.id),
        ])
    }

    /// Writes one station's route from `params` (`station`, `operations`); returns its row id.
    @discardableResult
    static func record(_ params: Parameters, writer: AuditedWriter, signatureID: Int64?) async throws -> Int64 {
        let station = try params.string("station")
        guard !station.isEmpty else { throw WorkRecordError(.invalidParams, "\(params.path).station must not be empty") }
        let operations = try params.array("operations").enumerated().map { index, operation -> String in
            guard let code = operation.stringValue, !code.isEmpty else {
                throw WorkRecordError(.invalidParams, "\(params.path).operations[\(index)] must be an operation's code")
            }
            return code
        }
        return try await writer.insert(
            "station_route",
            [
                "station": station, "operations": JSONValue.array(operations.map(JSONValue.string)).text, "signature_id": signatureID,
                "set_at": RecordClock.timestamp(),
            ], action: "route.set")
    }
}
