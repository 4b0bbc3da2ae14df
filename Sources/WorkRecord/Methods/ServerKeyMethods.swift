import FloorgateCore
import RecordProtocol

/// `server_key.register` and `server_key.list`: the record servers' public keys. An admin signs
/// each registration; the list is what `floorgate record keys export` writes for
/// `verify --keys`, to be kept away from the database's host.
enum ServerKeyMethods {
    static func register(_ context: MethodContext) async throws -> RecordOutcome {
        let publicKey = try context.params.string("public_key").lowercased()
        let name = try context.params.string("name")
        guard !name.isEmpty else { throw WorkRecordError(.invalidParams, "\(context.params.path).name must name the record server (its host, its station)") }
        guard let keyID = AuditPublicKeys.publicKey(hex: publicKey)?.id else {
            throw WorkRecordError(.invalidParams, "\(context.params.path).public_key must be an Ed25519 public key, 64 hex digits")
        }
        if let existing = try await context.transaction.row("SELECT name FROM server_key WHERE key_id = ?", keyID) {
            throw WorkRecordError(.conflict, "key \(keyID) is registered already, for '\(existing["name"] as String)'")
        }
        let id = try await AuditedWriter.nextID("server_key", context.transaction)
        let signed = try await context.signer.sign(
            try SignatureInput(context.params), role: .admin, meaning: .approved, recordType: "server_key", recordID: id,
            subject: "record server key \(keyID) of '\(name)'")
        try await context.writer.insert(
            "server_key",
            [
                "key_id": keyID, "public_key": publicKey, "name": name, "signature_id": signed.id, "registered_at": RecordClock.timestamp(),
            ], action: "server_key.register")
        return RecordOutcome(["key_id": .string(keyID), "name": .string(name), "signature_id": .integer(signed.id)])
    }

    static func list(_ context: MethodContext) async throws -> RecordOutcome {
        let rows = try await context.transaction.rows(
            """
            SELECT k.key_id, k.public_key, k.name, k.registered_at, s.printed_name
            FROM server_key k JOIN signature s ON s.id = k.signature_id ORDER BY k.id
            """)
        return RecordOutcome([
            "keys": .array(rows.map { row in
                [
                    "key_id": .string(row["key_id"]), "public_key": .string(row["public_key"]), "name": .string(row["name"]),
                    "registered_at": .string(row["registered_at"]), "registered_by": .string(row["printed_name"]),
                ]
            })
        ])
    }
}
