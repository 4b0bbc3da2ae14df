public import GRDB
import GRDBSQLite

/// A value as SQLite binds and stores it.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The text, or NULL for nil.
    public init(_ text: String?) {
        self = text.map(SQLiteValue.text) ?? .null
    }

    /// The number, or NULL for nil.
    public init(_ number: Int64?) {
        self = number.map(SQLiteValue.integer) ?? .null
    }
}

/// A statement GRDB prepared, bound and stepped through SQLite's C interface. GRDB's
/// per-execution bookkeeping (argument conversion, statement observation, region tracking, row
/// copies) cost more than SQLite's own work for the short statements of the gateway's outbox and
/// the record's writer (perf, BENCHMARKS.md), which need none of it: no observer watches those
/// connections. Used on the connection's own queue or thread, like the statement.
public struct SteppedStatement {
    /// The statement as GRDB prepared it (its SQL and column names).
    public let statement: Statement

    public init(_ statement: Statement) {
        self.statement = statement
    }

    /// Prepares `sql` on `db`.
    public init(_ db: Database, sql: String) throws {
        self.init(try db.makeStatement(sql: sql))
    }

    /// Binds `values` to the statement's parameters in order and runs it to its end.
    public func run(_ values: [SQLiteValue] = []) throws {
        _ = try rows(values, keeping: false)
    }

    /// Binds `values` to the statement's parameters in order, runs it to its end and returns
    /// the rows it gave, each a value per column of `statement.columnNames`.
    public func rows(_ values: [SQLiteValue]) throws -> [[SQLiteValue]] {
        try rows(values, keeping: true)
    }

    private func rows(_ values: [SQLiteValue], keeping: Bool) throws -> [[SQLiteValue]] {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        for (offset, value) in values.enumerated() {
            let code = Self.bind(value, at: Int32(offset + 1), to: handle)
            guard code == SQLITE_OK else { throw failure(code) }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE:
                return rows
            case SQLITE_ROW where keeping:
                rows.append((0..<sqlite3_column_count(handle)).map { Self.column($0, of: handle) })
            case SQLITE_ROW:
                continue
            case let code:
                throw failure(code)
            }
        }
    }

    private static func bind(_ value: SQLiteValue, at index: Int32, to handle: SQLiteStatement) -> Int32 {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let number): sqlite3_bind_int64(handle, index, number)
        case .real(let number): sqlite3_bind_double(handle, index, number)
        case .text(let text): sqlite3_bind_text(handle, index, text, -1, transient)
        case .blob(let bytes): bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
        }
    }

    private static func column(_ index: Int32, of handle: SQLiteStatement) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, index))
            return .text(sqlite3_column_text(handle, index).map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, index))
            return .blob(sqlite3_column_blob(handle, index).map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
        default:
            return .null
        }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))),
            sql: statement.sql)
    }

    /// SQLITE_TRANSIENT: SQLite copies what is bound (the macro does not reach Swift).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
