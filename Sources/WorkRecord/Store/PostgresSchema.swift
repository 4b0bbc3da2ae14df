import Foundation
import RecordProtocol

/// The record's schema in PostgreSQL: the same tables, columns and constraints as SQLiteSchema
/// (integers as BIGINT, bytes as BYTEA), the same protecting triggers in PL/pgSQL, a table of
/// notifications for the servers that LISTEN, and the schema's version. Record servers never
/// change it: `floorgate record migrate` does, under the database owner's role.
enum PostgresSchema {
    /// The version this build of Floorgate reads and writes.
    static let version: Int64 = 13

    /// The schema version a database holds; 0 for a database without the record's schema.
    static func installedVersion(_ transaction: any RecordTransaction) async throws(RecordStoreError) -> Int64 {
        let exists = try await transaction.integer("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'floorgate_schema'") ?? 0
        return exists == 0 ? 0 : try await transaction.integer("SELECT MAX(version) FROM floorgate_schema") ?? 0
    }

    /// The channel record servers LISTEN on; a NOTIFY says new rows wait in `notification`.
    static let notificationChannel = "floorgate_record"

    /// The statements that bring a database from the version before to each version, one
    /// statement each, oldest first. A released version's statements never change.
    static var migrations: [(version: Int64, statements: [String])] {
        [
            (1, version1.flatMap(statements)), (2, version2.flatMap(statements)), (3, version3.flatMap(statements)),
            (4, version4.flatMap(statements)), (5, version5.flatMap(statements)),
            (6, version6.flatMap(statements)), (7, version7.flatMap(statements)),
            (8, version8.flatMap(statements)), (9, version9.flatMap(statements)),
            (10, version10.flatMap(statements)), (11, version11.flatMap(statements)),
            (12, version12.flatMap(statements)), (13, version13.flatMap(statements)),
        ]
    }

    /// Version 13: users deactivated, never deleted.
    private static let version13 = appendOnlyVersion(13, [RecordSchema.userDeactivation(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["user_deactivation"])

    /// Version 12: concessions waiting for a second quality user.
    private static let version12 = appendOnlyVersion(12, [RecordSchema.ncConcession(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["nc_concession"])

    /// Version 11: units released for distribution.
    private static let version11 = appendOnlyVersion(11, [RecordSchema.unitRelease(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["unit_release"])

    /// Version 10: redlines waiting for an approver's signature before they take effect.
    private static let version10 = appendOnlyVersion(10, [RecordSchema.redlineDraft(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["redline_draft"])

    /// Version 9: audit entries signed by the server that wrote them; the servers' registered keys.
    private static let version9 = appendOnlyVersion(
        9, RecordSchema.auditSignatureColumns + [RecordSchema.serverKey(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["server_key"])

    /// Version 8: the record's notes on results' times (late, measured out of order).
    private static let version8 = appendOnlyVersion(8, [RecordSchema.resultTime(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["result_time"])

    /// Version 7: what a commanded tool's controller said of each tightening.
    private static let version7 = appendOnlyVersion(7, [RecordSchema.tightening(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["tightening"])

    /// Version 6: genealogy (part identifiers, components built into units).
    private static let version6 = appendOnlyVersion(
        6, [RecordSchema.genealogy(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["part_identifier", "component_use"])

    /// Version 5: the calibration register.
    private static let version5 = appendOnlyVersion(5, [RecordSchema.calibration(id: "BIGINT PRIMARY KEY", integer: "BIGINT")], tables: ["calibration"])

    /// Version 4: control limits frozen for a point (`spc.freeze`) and the pictures steps show.
    private static let version4 = appendOnlyVersion(4, [
        RecordSchema.spcLimits(id: "BIGINT PRIMARY KEY", integer: "BIGINT"),
        RecordSchema.media(id: "BIGINT PRIMARY KEY", integer: "BIGINT", blob: "BYTEA"),
    ], tables: ["spc_limits", "media", "media_content"])

    /// A version that adds tables that only grow: their DDL, their triggers, the version's mark.
    private static func appendOnlyVersion(_ version: Int64, _ ddl: [String], tables: [String]) -> [String] {
        ddl + tables.map(appendOnlyTriggers) + ["UPDATE floorgate_schema SET version = \(version);"]
    }

    /// Version 3: what binds an idempotency key to its request's content (`RecordService.digest`);
    /// NULL for keys stored before.
    private static let version3 = [
        "ALTER TABLE idempotency ADD COLUMN digest TEXT;",
        "UPDATE floorgate_schema SET version = 3;",
    ]

    /// Version 2: which operations each station may open (routes across stations).
    private static let version2 = [
        """
        CREATE TABLE station_route (
            id BIGINT PRIMARY KEY,
            station TEXT NOT NULL,
            operations TEXT NOT NULL,
            signature_id BIGINT REFERENCES signature(id),
            set_at TEXT NOT NULL
        );
        CREATE INDEX station_route_station ON station_route (station, id);
        """,
        appendOnlyTriggers("station_route"),
        "UPDATE floorgate_schema SET version = 2;",
    ]

    /// Version 1, from an empty database.
    private static let version1 = [
        """
        CREATE TABLE "user" (
            id BIGINT PRIMARY KEY,
            login TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            password TEXT NOT NULL,
            failed_attempts BIGINT NOT NULL DEFAULT 0,
            locked BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE part (
            id BIGINT PRIMARY KEY,
            number TEXT NOT NULL,
            revision TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            UNIQUE (number, revision)
        );
        CREATE TABLE instruction (
            id BIGINT PRIMARY KEY,
            part_id BIGINT NOT NULL REFERENCES part(id),
            operation TEXT NOT NULL,
            revision TEXT NOT NULL,
            title TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'superseded')),
            based_on BIGINT REFERENCES instruction(id),
            approval_signature BIGINT,
            created_at TEXT NOT NULL,
            UNIQUE (part_id, operation, revision)
        );
        CREATE UNIQUE INDEX instruction_one_effective ON instruction (part_id, operation) WHERE status = 'approved';
        CREATE TABLE work_order (
            id BIGINT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            part_id BIGINT NOT NULL REFERENCES part(id),
            quantity BIGINT NOT NULL,
            operations TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('planned', 'released', 'closed')),
            released_at TEXT
        );
        CREATE TABLE unit_serial (
            id BIGINT PRIMARY KEY,
            serial TEXT NOT NULL UNIQUE,
            work_order_id BIGINT NOT NULL REFERENCES work_order(id)
        );
        CREATE TABLE build (
            id BIGINT PRIMARY KEY,
            serial_id BIGINT NOT NULL REFERENCES unit_serial(id),
            operation TEXT NOT NULL,
            instruction_id BIGINT NOT NULL REFERENCES instruction(id),
            status TEXT NOT NULL CHECK (status IN ('open', 'complete')),
            station TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            closed_at TEXT,
            UNIQUE (serial_id, operation)
        );
        CREATE TABLE signature (
            id BIGINT PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES "user"(id),
            printed_name TEXT NOT NULL,
            meaning TEXT NOT NULL CHECK (meaning IN ('approved', 'performed', 'reviewed', 'dispositioned')),
            record_type TEXT NOT NULL,
            record_id BIGINT NOT NULL,
            subject TEXT NOT NULL,
            reason TEXT,
            signed_at TEXT NOT NULL
        );
        CREATE TABLE result (
            id BIGINT PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            build_id BIGINT NOT NULL REFERENCES build(id),
            instruction_id BIGINT NOT NULL REFERENCES instruction(id),
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
            raw BYTEA,
            corrects BIGINT REFERENCES result(id),
            correction_reason TEXT,
            signature_id BIGINT REFERENCES signature(id),
            remeasures_nc BIGINT
        );
        CREATE INDEX result_by_step ON result (build_id, step);
        CREATE TABLE step_completion (
            id BIGINT PRIMARY KEY,
            build_id BIGINT NOT NULL REFERENCES build(id),
            step TEXT NOT NULL,
            instruction_id BIGINT NOT NULL REFERENCES instruction(id),
            signature_id BIGINT NOT NULL REFERENCES signature(id),
            completed_at TEXT NOT NULL,
            UNIQUE (build_id, step)
        );
        CREATE TABLE nonconformance (
            id BIGINT PRIMARY KEY,
            build_id BIGINT NOT NULL REFERENCES build(id),
            step TEXT,
            point TEXT,
            result_id BIGINT REFERENCES result(id),
            description TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('automatic', 'manual')),
            raised_by TEXT NOT NULL,
            raised_at TEXT NOT NULL
        );
        CREATE TABLE nc_disposition (
            id BIGINT PRIMARY KEY,
            nc_id BIGINT NOT NULL UNIQUE REFERENCES nonconformance(id),
            disposition TEXT NOT NULL CHECK (disposition IN ('use-as-is', 'rework', 'scrap', 'return')),
            comment TEXT NOT NULL,
            signature_id BIGINT NOT NULL REFERENCES signature(id),
            dispositioned_at TEXT NOT NULL
        );
        CREATE TABLE redline (
            id BIGINT PRIMARY KEY,
            from_instruction BIGINT NOT NULL REFERENCES instruction(id),
            to_instruction BIGINT NOT NULL UNIQUE REFERENCES instruction(id),
            reason TEXT NOT NULL,
            signature_id BIGINT NOT NULL REFERENCES signature(id),
            published_at TEXT NOT NULL
        );
        CREATE TABLE redline_ack (
            id BIGINT PRIMARY KEY,
            build_id BIGINT NOT NULL REFERENCES build(id),
            redline_id BIGINT NOT NULL REFERENCES redline(id),
            signature_id BIGINT NOT NULL REFERENCES signature(id),
            acknowledged_at TEXT NOT NULL,
            UNIQUE (build_id, redline_id)
        );
        CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            peer TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id BIGINT NOT NULL,
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
        CREATE TABLE notification (
            id BIGSERIAL PRIMARY KEY,
            origin TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE FUNCTION floorgate_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[0];
        END
        $$;
        CREATE TRIGGER instruction_immutable BEFORE UPDATE ON instruction FOR EACH ROW
            WHEN (OLD.status <> 'draft' AND (
                NEW.content IS DISTINCT FROM OLD.content OR NEW.revision IS DISTINCT FROM OLD.revision
                OR NEW.title IS DISTINCT FROM OLD.title OR NEW.part_id IS DISTINCT FROM OLD.part_id
                OR NEW.operation IS DISTINCT FROM OLD.operation OR NEW.approval_signature IS DISTINCT FROM OLD.approval_signature))
            EXECUTE FUNCTION floorgate_refuse('an approved instruction revision is immutable');
        CREATE TRIGGER instruction_status_forward BEFORE UPDATE OF status ON instruction FOR EACH ROW
            WHEN (NOT ((OLD.status = 'draft' AND NEW.status = 'approved')
                OR (OLD.status = 'approved' AND NEW.status = 'superseded') OR OLD.status = NEW.status))
            EXECUTE FUNCTION floorgate_refuse('an instruction revision only moves draft → approved → superseded');
        CREATE TRIGGER instruction_keep_approved BEFORE DELETE ON instruction FOR EACH ROW WHEN (OLD.status <> 'draft')
            EXECUTE FUNCTION floorgate_refuse('an approved instruction revision is never deleted');
        """,
    ] + RecordSchema.firstAppendOnlyTables.map(appendOnlyTriggers) + [
        "CREATE TABLE floorgate_schema (version BIGINT NOT NULL);\nINSERT INTO floorgate_schema VALUES (1);"
    ]

    /// Every protecting trigger's definition by name, as PostgreSQL gives it back
    /// (`pg_get_triggerdef`, its table unqualified): `verify` compares the database's triggers with
    /// these, whole, so a trigger given a `WHEN` that never holds no longer matches.
    static let triggerDefinitions: [String: String] = {
        var definitions = [
            "instruction_immutable": """
                CREATE TRIGGER instruction_immutable BEFORE UPDATE ON instruction FOR EACH ROW WHEN (((old.status <> 'draft'::text) AND \
                ((new.content IS DISTINCT FROM old.content) OR (new.revision IS DISTINCT FROM old.revision) OR \
                (new.title IS DISTINCT FROM old.title) OR (new.part_id IS DISTINCT FROM old.part_id) OR \
                (new.operation IS DISTINCT FROM old.operation) OR (new.approval_signature IS DISTINCT FROM old.approval_signature)))) \
                EXECUTE FUNCTION floorgate_refuse('an approved instruction revision is immutable')
                """,
            "instruction_status_forward": """
                CREATE TRIGGER instruction_status_forward BEFORE UPDATE OF status ON instruction FOR EACH ROW WHEN ((NOT \
                (((old.status = 'draft'::text) AND (new.status = 'approved'::text)) OR ((old.status = 'approved'::text) AND \
                (new.status = 'superseded'::text)) OR (old.status = new.status)))) \
                EXECUTE FUNCTION floorgate_refuse('an instruction revision only moves draft → approved → superseded')
                """,
            "instruction_keep_approved": """
                CREATE TRIGGER instruction_keep_approved BEFORE DELETE ON instruction FOR EACH ROW WHEN ((old.status <> 'draft'::text)) \
                EXECUTE FUNCTION floorgate_refuse('an approved instruction revision is never deleted')
                """,
        ]
        for table in RecordSchema.appendOnlyTables {
            let refuse = "EXECUTE FUNCTION floorgate_refuse"
            definitions["\(table)_no_update"] = "CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) FOR EACH ROW \(refuse)('\(table) rows are never changed: record a correction instead')"
            definitions["\(table)_no_delete"] = "CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) FOR EACH ROW \(refuse)('\(table) rows are never deleted')"
        }
        return definitions
    }()

    /// The body of `floorgate_refuse`, which every protecting trigger runs, white space made single spaces.
    static let refusalBody = "BEGIN RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[0]; END"

    /// The triggers that refuse changing, deleting or truncating the rows of `table`.
    private static func appendOnlyTriggers(_ table: String) -> String {
        """
        CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) FOR EACH ROW
            EXECUTE FUNCTION floorgate_refuse('\(table) rows are never changed: record a correction instead');
        CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) FOR EACH ROW
            EXECUTE FUNCTION floorgate_refuse('\(table) rows are never deleted');
        CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT
            EXECUTE FUNCTION floorgate_refuse('\(table) rows are never deleted');
        """
    }

    /// The statements of `script`: each ends with a line ending in `;` outside a `$$` body.
    private static func statements(_ script: String) -> [String] {
        var statements: [String] = [], current: [Substring] = [], inBody = false
        for line in script.split(separator: "\n") {
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        if !current.isEmpty { statements.append(current.joined(separator: "\n")) }
        return statements
    }

    /// The privileges of the role record servers connect as: rows of append-only tables may be
    /// read and added, never changed or removed; the tables whose rows move through states
    /// (users, revisions, work orders, builds) may also be updated.
    static func grants(to role: String) -> [String] {
        let quoted = "\"" + role.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let appendOnly = (RecordSchema.appendOnlyTables + ["part", "unit_serial", "idempotency", "notification"])
            .map { "\"\($0)\"" }.joined(separator: ", ")
        return [
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(quoted)",
            "GRANT SELECT ON floorgate_schema TO \(quoted)",
            "GRANT SELECT, INSERT ON \(appendOnly) TO \(quoted)",
            "GRANT SELECT, INSERT, UPDATE ON \"user\", instruction, work_order, build TO \(quoted)",
            "GRANT USAGE ON SEQUENCE notification_id_seq TO \(quoted)",
        ]
    }
}
