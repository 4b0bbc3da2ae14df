import GRDB
import GRDBSQLite

/// One of the outbox writer's statements: prepared by GRDB once, then bound and stepped through
/// SQLite's C interface. GRDB's per-execution bookkeeping (argument conversion, statement
/// observation, region tracking) was a tenth of the writer's time at 256 devices (perf, see
/// BENCHMARKS.md), for statements that need none of it: they write one row, return nothing,
/// and no observer watches the outbox.
struct SteppedStatement {
    /// A value to bind.
    enum Value {
        case text(String?)
        case integer(Int64?)
        case blob([UInt8])
    }

    let statement: Statement
    private let connection: SQLiteConnection

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the outbox connection is closed", sql: sql) }
        self.connection = connection
    }

    /// Binds `values` to the statement's parameters in order and runs it to its end.
    func run(_ values: [Value] = []) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .text(let text?): code = sqlite3_bind_text(handle, index, text, -1, Self.transient)
            case .integer(let number?): code = sqlite3_bind_int64(handle, index, number)
            case .blob(let bytes): code = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
            case .text(nil), .integer(nil): code = sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
    }

    /// SQLITE_TRANSIENT: SQLite copies what is bound (the macro does not reach Swift).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
