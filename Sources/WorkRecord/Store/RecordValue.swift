public import Foundation
import RecordProtocol

/// One value as either store holds it: the record's columns are integers, text and bytes only,
/// so a row reads the same from SQLite and from PostgreSQL, and its audit snapshot hashes the same.
public enum RecordValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift type the record stores as one `RecordValue`.
public protocol RecordValueConvertible: Sendable {
    var recordValue: RecordValue { get }
    /// The value read back; nil when `recordValue` is NULL or of another kind.
    init?(recordValue: RecordValue)
}

extension Int64: RecordValueConvertible {
    public var recordValue: RecordValue { .integer(self) }
    public init?(recordValue: RecordValue) {
        guard case .integer(let value) = recordValue else { return nil }
        self = value
    }
}

extension Int: RecordValueConvertible {
    public var recordValue: RecordValue { .integer(Int64(self)) }
    public init?(recordValue: RecordValue) {
        guard case .integer(let value) = recordValue else { return nil }
        self.init(value)
    }
}

/// Booleans are stored as 0 and 1.
extension Bool: RecordValueConvertible {
    public var recordValue: RecordValue { .integer(self ? 1 : 0) }
    public init?(recordValue: RecordValue) {
        guard case .integer(let value) = recordValue else { return nil }
        self = value != 0
    }
}

extension String: RecordValueConvertible {
    public var recordValue: RecordValue { .text(self) }
    public init?(recordValue: RecordValue) {
        guard case .text(let value) = recordValue else { return nil }
        self = value
    }
}

extension Data: RecordValueConvertible {
    public var recordValue: RecordValue { .blob(Array(self)) }
    public init?(recordValue: RecordValue) {
        guard case .blob(let value) = recordValue else { return nil }
        self.init(value)
    }
}

extension RecordValue {
    /// The value of `argument`, NULL for nil.
    init(_ argument: (any RecordValueConvertible)?) {
        self = argument?.recordValue ?? .null
    }
}

/// One row of a query: its columns in the order the query gave them, read by name.
public struct RecordRow: Sendable, Hashable {
    public let columns: [String]
    public let values: [RecordValue]

    public init(columns: [String], values: [RecordValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column`; NULL when the row has no such column.
    public func value(_ column: String) -> RecordValue {
        columns.firstIndex(of: column).map { values[$0] } ?? .null
    }

    /// The value of `column`, or nil when it is NULL (or absent, or of another kind).
    public subscript<Value: RecordValueConvertible>(_ column: String) -> Value? {
        Value(recordValue: value(column))
    }

    /// The value of a column the schema declares NOT NULL. A NULL or a value of another kind
    /// there means the query and the schema disagree: a programming error, as with GRDB's rows.
    public subscript<Value: RecordValueConvertible>(_ column: String) -> Value {
        guard let converted = Value(recordValue: value(column)) else {
            preconditionFailure("record column '\(column)' holds \(value(column)), not a \(Value.self)")
        }
        return converted
    }
}
