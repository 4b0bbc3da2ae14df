import RecordProtocol

/// The statements the record's rules run inside one transaction of a store. The rules are
/// written once against this: their SQL is the part of SQL both stores speak (`?` placeholders,
/// quoted identifiers where a word is reserved, no store-specific functions), and what differs
/// between the stores (the audit chain's clock, locks, notifications) is the store's business.
public protocol RecordTransaction: Sendable {
    /// The rows `sql` returns with `arguments` bound to its `?` placeholders in order.
    func rows(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) -> [RecordRow]
    /// Runs `sql`, which returns no rows.
    func execute(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError)
    /// The time an audit entry is appended, as the record writes times (UTC, ISO 8601 with
    /// milliseconds). The PostgreSQL store takes it from the database's clock under the chain's lock,
    /// so the entries of every server are in time order.
    func auditTimestamp() async throws(RecordStoreError) -> String
}

/// Why a store could not run a statement.
public struct RecordStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A constraint or a protecting trigger refused the change.
        case constraint
        /// The database cannot be reached (or the connection broke).
        case unreachable
        /// The file is not a record, or is damaged.
        case damaged
        /// Another process writes the record file (`RecordFileLock`).
        case locked
        /// Anything else: a statement the store refused, a schema mismatch.
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension RecordTransaction {
    func rows(_ sql: String, _ arguments: (any RecordValueConvertible)?...) async throws(RecordStoreError) -> [RecordRow] {
        try await rows(sql, arguments.map(RecordValue.init))
    }

    /// The first row `sql` returns, or nil.
    func row(_ sql: String, _ arguments: (any RecordValueConvertible)?...) async throws(RecordStoreError) -> RecordRow? {
        try await rows(sql, arguments.map(RecordValue.init)).first
    }

    /// The first column of the first row as an integer, or nil.
    func integer(_ sql: String, _ arguments: (any RecordValueConvertible)?...) async throws(RecordStoreError) -> Int64? {
        try await rows(sql, arguments.map(RecordValue.init)).first?.values.first.flatMap(Int64.init(recordValue:))
    }

    /// The first column of every row as integers.
    func integers(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) -> [Int64] {
        try await rows(sql, arguments).compactMap { $0.values.first.flatMap(Int64.init(recordValue:)) }
    }

    func execute(_ sql: String, _ arguments: (any RecordValueConvertible)?...) async throws(RecordStoreError) {
        try await execute(sql, arguments.map(RecordValue.init))
    }

    /// Runs `body` in savepoint `name`; its writes stay when it returns true and are undone when
    /// it returns false, and so is what the writer remembered of them. Savepoints nest.
    func savepoint(_ name: String, _ body: () async -> Bool) async throws(RecordStoreError) {
        let memory = memory, mark = memory?.mark()
        try await execute("SAVEPOINT \(name)", [])
        if await body() {
            try await execute("RELEASE SAVEPOINT \(name)", [])
        } else {
            try await execute("ROLLBACK TO SAVEPOINT \(name)", [])
            try await execute("RELEASE SAVEPOINT \(name)", [])
            if let memory, let mark { memory.rollBack(to: mark) }
        }
    }
}

/// The `(?, ?, …)` of an `IN` list and its arguments; an empty list is `(NULL)`, which matches
/// nothing.
func inList(_ ids: some Collection<Int64>) -> (sql: String, arguments: [RecordValue]) {
    guard !ids.isEmpty else { return ("(NULL)", []) }
    return ("(" + Array(repeating: "?", count: ids.count).joined(separator: ", ") + ")", ids.map(RecordValue.integer))
}
