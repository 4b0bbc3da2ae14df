import RecordProtocol

/// What both stores' schemas share: which tables the audit chain covers and which only grow.
/// Each store writes its own DDL (SQLiteSchema, PostgresSchema) for the same tables, columns and
/// protections.
enum RecordSchema {
    /// The tables whose every row the audit chain covers, in the order `verify` reports them.
    static let auditedTables = [
        "user", "part", "instruction", "work_order", "unit_serial", "build", "result", "signature",
        "step_completion", "nonconformance", "nc_disposition", "redline", "redline_ack", "station_route",
        "spc_limits", "media", "calibration", "part_identifier", "component_use", "tightening",
        "result_time", "server_key", "redline_draft", "unit_release", "nc_concession", "user_deactivation",
    ]

    /// Tables that only ever grow: triggers refuse UPDATE and DELETE on them.
    static let appendOnlyTables = firstAppendOnlyTables + ["station_route", "spc_limits", "media", "media_content", "calibration", "part_identifier", "component_use", "tightening", "result_time", "server_key", "redline_draft", "unit_release", "nc_concession", "user_deactivation"]

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

    /// The table of control limits frozen for a point (`spc.freeze`), in either store's
    /// column types. The figures are the Doubles' shortest exact text.
    static func spcLimits(id: String, integer: String) -> String {
        """
        CREATE TABLE spc_limits (
            id \(id),
            part TEXT NOT NULL,
            operation TEXT NOT NULL,
            step TEXT NOT NULL,
            point TEXT NOT NULL,
            chart TEXT NOT NULL CHECK (chart IN ('I-MR', 'Xbar-R', 'Xbar-S')),
            subgroup_size \(integer) NOT NULL,
            unit TEXT NOT NULL,
            centre TEXT NOT NULL,
            lower TEXT NOT NULL,
            upper TEXT NOT NULL,
            dispersion_centre TEXT NOT NULL,
            dispersion_lower TEXT NOT NULL,
            dispersion_upper TEXT NOT NULL,
            sigma_within TEXT NOT NULL,
            baseline_subgroups \(integer) NOT NULL,
            first_build \(integer) NOT NULL REFERENCES build(id),
            last_build \(integer) NOT NULL REFERENCES build(id),
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            frozen_at TEXT NOT NULL
        );
        CREATE INDEX spc_limits_point ON spc_limits (part, operation, step, point, id);
        """
    }

    /// The pictures steps show: `media` (audited: hash, type, size) and `media_content` (the
    /// bytes, by hash, outside the audit chain; read back only through their hash).
    static func media(id: String, integer: String, blob: String) -> String {
        """
        CREATE TABLE media (
            id \(id),
            hash TEXT NOT NULL UNIQUE,
            content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/svg+xml')),
            size \(integer) NOT NULL,
            stored_at TEXT NOT NULL
        );
        CREATE TABLE media_content (
            hash TEXT PRIMARY KEY,
            bytes \(blob) NOT NULL
        );
        """
    }

    /// The calibration register (`calibration.record`): each entry one signed event of a
    /// measuring device, by its asset number; and the index that finds a device's results.
    static func calibration(id: String, integer: String) -> String {
        """
        CREATE TABLE calibration (
            id \(id),
            asset TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('calibrated', 'failed', 'out-of-service')),
            calibrated_on TEXT,
            due_on TEXT,
            interval_days \(integer),
            certificate TEXT,
            assessment TEXT,
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX calibration_asset ON calibration (asset, recorded_at, id);
        CREATE INDEX result_by_device ON result (device_serial, measured_at);
        """
    }

    /// Genealogy: the product identifiers that name a part on labels (`part_identifier`: a GTIN,
    /// the UDI-DI, or a HIBC labeler and product code) and the components built into each unit
    /// (`component_use`, beside the result of the scan that admitted each).
    static func genealogy(id: String, integer: String) -> String {
        """
        CREATE TABLE part_identifier (
            id \(id),
            part_id \(integer) NOT NULL REFERENCES part(id),
            scheme TEXT NOT NULL CHECK (scheme IN ('gtin', 'hibc')),
            identifier TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            UNIQUE (scheme, identifier)
        );
        CREATE TABLE component_use (
            id \(id),
            build_id \(integer) NOT NULL REFERENCES build(id),
            result_id \(integer) NOT NULL REFERENCES result(id),
            step TEXT NOT NULL,
            point TEXT NOT NULL,
            part TEXT NOT NULL,
            lot TEXT,
            serial TEXT,
            expiry TEXT,
            quantity \(integer) NOT NULL,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX component_use_build ON component_use (build_id);
        CREATE INDEX component_use_lot ON component_use (lot);
        CREATE INDEX component_use_serial ON component_use (part, serial);
        """
    }

    /// What a commanded tool's controller said of each tightening (`tightening`, beside its
    /// result): program, identifier, batch, the controller's tightening id and the physical tool.
    static func tightening(id: String, integer: String) -> String {
        """
        CREATE TABLE tightening (
            id \(id),
            result_id \(integer) NOT NULL UNIQUE REFERENCES result(id),
            tightening_id TEXT,
            pset TEXT,
            identifier TEXT,
            batch_size \(integer),
            batch_counter \(integer),
            batch_status TEXT CHECK (batch_status IN ('ok', 'nok', 'running', 'not_used')),
            batch_retry \(integer) NOT NULL CHECK (batch_retry IN (0, 1)),
            tool_serial TEXT,
            tool_tightenings \(integer),
            tool_calibrated_on TEXT,
            recorded_at TEXT NOT NULL
        );
        """
    }

    /// The record's note on a result's time (`result_time`, beside the result): recorded late
    /// (queued, backfilled), or measured before the build's previous result.
    static func resultTime(id: String, integer: String) -> String {
        """
        CREATE TABLE result_time (
            id \(id),
            result_id \(integer) NOT NULL UNIQUE REFERENCES result(id),
            late \(integer) NOT NULL CHECK (late IN (0, 1)),
            measured_before \(integer) REFERENCES result(id),
            note TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        );
        """
    }

    /// The record servers' public keys, each registered by an admin's signature: the keys whose
    /// signatures on audit entries `verify --keys` accepts (`floorgate record keys export`).
    static func serverKey(id: String, integer: String) -> String {
        """
        CREATE TABLE server_key (
            id \(id),
            key_id TEXT NOT NULL UNIQUE,
            public_key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            registered_at TEXT NOT NULL
        );
        """
    }

    /// What each audit entry gains once servers sign them: the signing key's id and the
    /// signature (NULL on entries written before).
    static let auditSignatureColumns = ["ALTER TABLE audit ADD COLUMN key_id TEXT;", "ALTER TABLE audit ADD COLUMN signature TEXT;"]

    /// A redline waiting for its approval: the draft revision an engineer made of the effective
    /// one, why, and the engineer's signature. It takes effect (a `redline` row, builds told)
    /// only when an approver who did not write it approves the draft revision.
    static func redlineDraft(id: String, integer: String) -> String {
        """
        CREATE TABLE redline_draft (
            id \(id),
            instruction_id \(integer) NOT NULL UNIQUE REFERENCES instruction(id),
            from_instruction \(integer) NOT NULL REFERENCES instruction(id),
            reason TEXT NOT NULL,
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            drafted_at TEXT NOT NULL
        );
        """
    }

    /// A unit released for distribution by quality's signature: at most one per serial.
    static func unitRelease(id: String, integer: String) -> String {
        """
        CREATE TABLE unit_release (
            id \(id),
            serial_id \(integer) NOT NULL UNIQUE REFERENCES unit_serial(id),
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            released_at TEXT NOT NULL
        );
        """
    }

    /// A concession proposed for a nonconformance (use-as-is, return) with its justification and
    /// the first quality signature; the disposition is recorded when a second quality user concurs.
    static func ncConcession(id: String, integer: String) -> String {
        """
        CREATE TABLE nc_concession (
            id \(id),
            nc_id \(integer) NOT NULL UNIQUE REFERENCES nonconformance(id),
            disposition TEXT NOT NULL CHECK (disposition IN ('use-as-is', 'return')),
            justification TEXT NOT NULL,
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            proposed_at TEXT NOT NULL
        );
        """
    }

    /// A user deactivated by an admin's signature: never deleted, their signatures stay valid,
    /// they sign nothing more.
    static func userDeactivation(id: String, integer: String) -> String {
        """
        CREATE TABLE user_deactivation (
            id \(id),
            user_id \(integer) NOT NULL UNIQUE REFERENCES "user"(id),
            reason TEXT NOT NULL,
            signature_id \(integer) NOT NULL REFERENCES signature(id),
            deactivated_at TEXT NOT NULL
        );
        """
    }
}
