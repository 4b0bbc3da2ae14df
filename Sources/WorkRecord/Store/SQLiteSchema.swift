import Foundation
import GRDB
import RecordProtocol

/// The record's schema in SQLite: named migration steps, applied when a station's record is
/// opened, and the triggers that keep its rows append-only.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1 users, parts and instructions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE user (
                        id INTEGER PRIMARY KEY,
                        login TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        roles TEXT NOT NULL,
                        password TEXT NOT NULL,
                        failed_attempts INTEGER NOT NULL DEFAULT 0,
                        locked INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE part (
                        id INTEGER PRIMARY KEY,
                        number TEXT NOT NULL,
                        revision TEXT NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        UNIQUE (number, revision)
                    );
                    CREATE TABLE instruction (
                        id INTEGER PRIMARY KEY,
                        part_id INTEGER NOT NULL REFERENCES part(id),
                        operation TEXT NOT NULL,
                        revision TEXT NOT NULL,
                        title TEXT NOT NULL,
                        content TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'superseded')),
                        based_on INTEGER REFERENCES instruction(id),
                        approval_signature INTEGER,
                        created_at TEXT NOT NULL,
                        UNIQUE (part_id, operation, revision)
                    );
                    CREATE UNIQUE INDEX instruction_one_effective ON instruction (part_id, operation)
                        WHERE status = 'approved';
                    \(instructionTriggers)
                    """)
        }
        migrator.registerMigration("2 work orders and builds") { db in
            try db.execute(
                sql: """
                    CREATE TABLE work_order (
                        id INTEGER PRIMARY KEY,
                        number TEXT NOT NULL UNIQUE,
                        part_id INTEGER NOT NULL REFERENCES part(id),
                        quantity INTEGER NOT NULL,
                        operations TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('planned', 'released', 'closed')),
                        released_at TEXT
                    );
                    CREATE TABLE unit_serial (
                        id INTEGER PRIMARY KEY,
                        serial TEXT NOT NULL UNIQUE,
                        work_order_id INTEGER NOT NULL REFERENCES work_order(id)
                    );
                    CREATE TABLE build (
                        id INTEGER PRIMARY KEY,
                        serial_id INTEGER NOT NULL REFERENCES unit_serial(id),
                        operation TEXT NOT NULL,
                        instruction_id INTEGER NOT NULL REFERENCES instruction(id),
                        status TEXT NOT NULL CHECK (status IN ('open', 'complete')),
                        station TEXT NOT NULL,
                        opened_by TEXT NOT NULL,
                        opened_at TEXT NOT NULL,
                        closed_at TEXT,
                        UNIQUE (serial_id, operation)
                    );
                    """)
        }
        migrator.registerMigration("3 signatures, results, completions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE signature (
                        id INTEGER PRIMARY KEY,
                        user_id INTEGER NOT NULL REFERENCES user(id),
                        printed_name TEXT NOT NULL,
                        meaning TEXT NOT NULL CHECK (meaning IN ('approved', 'performed', 'reviewed', 'dispositioned')),
                        record_type TEXT NOT NULL,
                        record_id INTEGER NOT NULL,
                        subject TEXT NOT NULL,
                        reason TEXT,
                        signed_at TEXT NOT NULL
                    );
                    CREATE TABLE result (
                        id INTEGER PRIMARY KEY,
                        key TEXT NOT NULL UNIQUE,
                        build_id INTEGER NOT NULL REFERENCES build(id),
                        instruction_id INTEGER NOT NULL REFERENCES instruction(id),
                        step TEXT NOT NULL,
                        point TEXT NOT NULL,
                        value TEXT NOT NULL,
                        unit TEXT,
                        resolution TEXT,
                        angle TEXT,
                        verdict TEXT NOT NULL,
                        reason TEXT,
                        device_kind TEXT NOT NULL,
                        device_profile TEXT,
                        device_serial TEXT,
                        operator TEXT NOT NULL,
                        station TEXT NOT NULL,
                        measured_at TEXT NOT NULL,
                        recorded_at TEXT NOT NULL,
                        raw BLOB,
                        corrects INTEGER REFERENCES result(id),
                        correction_reason TEXT,
                        signature_id INTEGER REFERENCES signature(id),
                        remeasures_nc INTEGER
                    );
                    CREATE INDEX result_by_step ON result (build_id, step);
                    CREATE TABLE step_completion (
                        id INTEGER PRIMARY KEY,
                        build_id INTEGER NOT NULL REFERENCES build(id),
                        step TEXT NOT NULL,
                        instruction_id INTEGER NOT NULL REFERENCES instruction(id),
                        signature_id INTEGER NOT NULL REFERENCES signature(id),
                        completed_at TEXT NOT NULL,
                        UNIQUE (build_id, step)
                    );
                    """)
        }
        migrator.registerMigration("4 nonconformances and redlines") { db in
            try db.execute(
                sql: """
                    CREATE TABLE nonconformance (
                        id INTEGER PRIMARY KEY,
                        build_id INTEGER NOT NULL REFERENCES build(id),
                        step TEXT,
                        point TEXT,
                        result_id INTEGER REFERENCES result(id),
                        description TEXT NOT NULL,
                        source TEXT NOT NULL CHECK (source IN ('automatic', 'manual')),
                        raised_by TEXT NOT NULL,
                        raised_at TEXT NOT NULL
                    );
                    CREATE TABLE nc_disposition (
                        id INTEGER PRIMARY KEY,
                        nc_id INTEGER NOT NULL UNIQUE REFERENCES nonconformance(id),
                        disposition TEXT NOT NULL CHECK (disposition IN ('use-as-is', 'rework', 'scrap', 'return')),
                        comment TEXT NOT NULL,
                        signature_id INTEGER NOT NULL REFERENCES signature(id),
                        dispositioned_at TEXT NOT NULL
                    );
                    CREATE TABLE redline (
                        id INTEGER PRIMARY KEY,
                        from_instruction INTEGER NOT NULL REFERENCES instruction(id),
                        to_instruction INTEGER NOT NULL UNIQUE REFERENCES instruction(id),
                        reason TEXT NOT NULL,
                        signature_id INTEGER NOT NULL REFERENCES signature(id),
                        published_at TEXT NOT NULL
                    );
                    CREATE TABLE redline_ack (
                        id INTEGER PRIMARY KEY,
                        build_id INTEGER NOT NULL REFERENCES build(id),
                        redline_id INTEGER NOT NULL REFERENCES redline(id),
                        signature_id INTEGER NOT NULL REFERENCES signature(id),
                        acknowledged_at TEXT NOT NULL,
                        UNIQUE (build_id, redline_id)
                    );
                    """)
        }
        migrator.registerMigration("5 audit chain and idempotency") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        peer TEXT NOT NULL,
                        action TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        entity_id INTEGER NOT NULL,
                        old TEXT,
                        new TEXT,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    CREATE TABLE idempotency (
                        key TEXT PRIMARY KEY,
                        method TEXT NOT NULL,
                        response TEXT NOT NULL
                    );
                    """)
            for table in RecordSchema.firstAppendOnlyTables {
                try db.execute(sql: appendOnlyTriggers(table))
            }
        }
        migrator.registerMigration("6 station routes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE station_route (
                        id INTEGER PRIMARY KEY,
                        station TEXT NOT NULL,
                        operations TEXT NOT NULL,
                        signature_id INTEGER REFERENCES signature(id),
                        set_at TEXT NOT NULL
                    );
                    CREATE INDEX station_route_station ON station_route (station, id);
                    """)
            try db.execute(sql: appendOnlyTriggers("station_route"))
        }
        migrator.registerMigration("7 idempotency digests") { db in
            // What binds a key to its request's content (RecordService.digest); NULL for keys
            // stored before.
            try db.execute(sql: "ALTER TABLE idempotency ADD COLUMN digest TEXT")
        }
        // Each adds tables that only grow: their DDL, then the triggers that keep them so.
        let integers = (id: "INTEGER PRIMARY KEY", integer: "INTEGER")
        migrator.registerMigration("8 frozen control limits and step pictures") { db in
            try appendOnly(db, [
                RecordSchema.spcLimits(id: integers.id, integer: integers.integer),
                RecordSchema.media(id: integers.id, integer: integers.integer, blob: "BLOB"),
            ], tables: ["spc_limits", "media", "media_content"])
        }
        migrator.registerMigration("9 calibration register") { db in
            try appendOnly(db, [RecordSchema.calibration(id: integers.id, integer: integers.integer)], tables: ["calibration"])
        }
        migrator.registerMigration("10 genealogy") { db in
            try appendOnly(db, [RecordSchema.genealogy(id: integers.id, integer: integers.integer)], tables: ["part_identifier", "component_use"])
        }
        migrator.registerMigration("11 tightening context") { db in
            try appendOnly(db, [RecordSchema.tightening(id: integers.id, integer: integers.integer)], tables: ["tightening"])
        }
        migrator.registerMigration("12 result times") { db in
            try appendOnly(db, [RecordSchema.resultTime(id: integers.id, integer: integers.integer)], tables: ["result_time"])
        }
        migrator.registerMigration("13 signed audit entries") { db in
            try appendOnly(
                db, RecordSchema.auditSignatureColumns + [RecordSchema.serverKey(id: integers.id, integer: integers.integer)], tables: ["server_key"])
        }
        migrator.registerMigration("14 redlines approved before they take effect") { db in
            try appendOnly(db, [RecordSchema.redlineDraft(id: integers.id, integer: integers.integer)], tables: ["redline_draft"])
        }
        migrator.registerMigration("15 units released for distribution") { db in
            try appendOnly(db, [RecordSchema.unitRelease(id: integers.id, integer: integers.integer)], tables: ["unit_release"])
        }
        migrator.registerMigration("16 concessions") { db in
            try appendOnly(db, [RecordSchema.ncConcession(id: integers.id, integer: integers.integer)], tables: ["nc_concession"])
        }
        migrator.registerMigration("17 deactivated users") { db in
            try appendOnly(db, [RecordSchema.userDeactivation(id: integers.id, integer: integers.integer)], tables: ["user_deactivation"])
        }
        return migrator
    }

    /// The triggers that keep an approved instruction revision as it was approved (first schema).
    private static let instructionTriggers = """
        CREATE TRIGGER instruction_immutable BEFORE UPDATE ON instruction
        WHEN OLD.status <> 'draft' AND (
            NEW.content IS NOT OLD.content OR NEW.revision IS NOT OLD.revision
            OR NEW.title IS NOT OLD.title OR NEW.part_id IS NOT OLD.part_id
            OR NEW.operation IS NOT OLD.operation OR NEW.approval_signature IS NOT OLD.approval_signature)
        BEGIN SELECT RAISE(ABORT, 'an approved instruction revision is immutable'); END;
        CREATE TRIGGER instruction_status_forward BEFORE UPDATE OF status ON instruction
        WHEN NOT ((OLD.status = 'draft' AND NEW.status = 'approved')
            OR (OLD.status = 'approved' AND NEW.status = 'superseded')
            OR OLD.status = NEW.status)
        BEGIN SELECT RAISE(ABORT, 'an instruction revision only moves draft → approved → superseded'); END;
        CREATE TRIGGER instruction_keep_approved BEFORE DELETE ON instruction WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'an approved instruction revision is never deleted'); END;
        """

    /// Every protecting trigger's definition by name, as the schema created it: `verify` compares
    /// the file's triggers with these, whole (a trigger weakened with a `WHEN 0` no longer matches).
    static let triggerDefinitions: [String: String] = {
        let scripts = [instructionTriggers] + RecordSchema.appendOnlyTables.map(appendOnlyTriggers)
        var definitions: [String: String] = [:]
        for script in scripts {
            for statement in script.components(separatedBy: "END;") where statement.contains("CREATE TRIGGER") {
                let text = statement.trimmingCharacters(in: .whitespacesAndNewlines) + " END"
                let name = text.split(whereSeparator: \.isWhitespace)[2]
                definitions[String(name)] = text
            }
        }
        return definitions
    }()

    /// Runs `ddl`, then makes `tables` append-only.
    private static func appendOnly(_ db: Database, _ ddl: [String], tables: [String]) throws {
        for statement in ddl { try db.execute(sql: statement) }
        for table in tables { try db.execute(sql: appendOnlyTriggers(table)) }
    }

    /// The triggers that refuse changing or deleting a row of `table`.
    private static func appendOnlyTriggers(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
        BEGIN SELECT RAISE(ABORT, '\(table) rows are never changed: record a correction instead'); END;
        CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
        BEGIN SELECT RAISE(ABORT, '\(table) rows are never deleted'); END;
        """
    }
}
