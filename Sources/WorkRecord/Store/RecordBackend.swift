public import RecordProtocol

/// Where the record is kept: a station's SQLite file or the plant's PostgreSQL. A backend runs
/// transactions for the record's single group-commit writer (`RecordStore`) and delivers the
/// notifications of committed writes; the rules never learn which backend they run on.
public protocol RecordBackend: Sendable {
    /// Runs `body` in one transaction and commits it. A `writing` transaction is serialized with
    /// every other writer of the record: the SQLite file has one writer; on PostgreSQL a lock on
    /// the audit chain, taken first inside the transaction, orders the writers of every server.
    /// `body` returns its value and the notifications its writes caused, which the backend delivers
    /// to every subscriber of the record once the transaction committed.
    func transaction<T: Sendable>(
        writing: Bool, _ body: (any RecordTransaction) async throws -> (T, [RecordNotification])
    ) async throws -> T

    /// The first of the record's protecting triggers that is gone or changed, named; nil when
    /// all are in place.
    func protectionProblem(_ transaction: any RecordTransaction) async throws -> String?

    /// Closes the backend's connections (after the writer finished).
    func close() async throws

    /// Where the record's writer runs: one thread, so a transaction's statements follow each
    /// other without waiting for a thread of the shared pool.
    var writerExecutor: any TaskExecutor { get }
}

/// Where notifications of committed writes go: the record server's subscribers.
public typealias RecordNotificationSink = @Sendable ([RecordNotification]) -> Void

/// A record location as a command line names it: a SQLite file's path (the embedded default) or
/// a PostgreSQL URL (`postgresql://…` or `postgres://…`).
public enum RecordLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// Reads `text` as a URL when it has PostgreSQL's scheme, else as a file path.
    public init(_ text: String) throws(PostgresURL.ParseError) {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            self = .postgres(try PostgresURL(text))
        } else {
            self = .sqlite(path: text)
        }
    }

    /// The location as logs and errors show it: a URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url.description
        }
    }
}
