import RecordProtocol

/// What both stores' schemas share: which tables the audit chain covers and which only grow.
/// Each store writes its own DDL (SQLiteSchema, PostgresSchema) for the same tables, columns and
/// protections.
enum RecordSchema {
    /// The tables whose every row the audit chain covers, in the order `verify` reports them.
    static let auditedTables = [
        "user", "part", "instruction", "work_order", "unit_serial", "build", "result", "signature",
        "step_completion", "nonconformance", "nc_disposition", "redline", "redline_ack", "station_route",
    ]

    /// Tables that only ever grow: triggers refuse UPDATE and DELETE on them.
    static let appendOnlyTables = firstAppendOnlyTables + ["station_route"]

    /// The append-only tables of the first schema, whose triggers its first migration creates
    /// (a migration, once released, never changes).
    static let firstAppendOnlyTables = [
        "result", "signature", "audit", "step_completion", "nc_disposition", "redline", "redline_ack", "nonconformance",
    ]

    /// Every protecting trigger: its name, its table and the operation it refuses.
    static var protectingTriggers: [(name: String, table: String, operation: String)] {
        appendOnlyTables.flatMap { table in [("\(table)_no_update", table, "UPDATE"), ("\(table)_no_delete", table, "DELETE")] } + [
            ("instruction_immutable", "instruction", "UPDATE"),
            ("instruction_status_forward", "instruction", "UPDATE"),
            ("instruction_keep_approved", "instruction", "DELETE"),
        ]
    }
}
