import FloorgateCore
import RecordProtocol

extension JSONValue {
    /// Parses one JSON text of the record protocol, refusing it as a JSON-RPC parse error.
    init(recordText data: some Collection<UInt8>) throws(WorkRecordError) {
        do {
            try self.init(parsing: data)
        } catch {
            throw WorkRecordError(.parseError, "the line is \(error)")
        }
    }

    /// A string, or null when absent.
    static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    /// An integer, or null when absent.
    static func optional(_ number: Int64?) -> JSONValue { number.map(JSONValue.integer) ?? .null }
}

/// Typed access to a method's `params` object, with errors that name the parameter.
struct Parameters: Sendable {
    let members: [String: JSONValue]
    /// Where these parameters sit in the request (`params`, `params.measurement`), for messages.
    let path: String

    init(_ value: JSONValue?, path: String = "params") throws(WorkRecordError) {
        switch value {
        case .object(let members)?: self.members = members
        case nil, .null?: self.members = [:]
        default: throw WorkRecordError(.invalidParams, "\(path) must be an object")
        }
        self.path = path
    }

    func string(_ key: String) throws(WorkRecordError) -> String {
        guard let text = try optionalString(key), !text.isEmpty else {
            throw WorkRecordError(.invalidParams, "\(path).\(key) is required (a non-empty string)")
        }
        return text
    }

    func optionalString(_ key: String) throws(WorkRecordError) -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw WorkRecordError(.invalidParams, "\(path).\(key) must be a string")
        }
    }

    func integer(_ key: String) throws(WorkRecordError) -> Int64 {
        guard let number = try optionalInteger(key) else {
            throw WorkRecordError(.invalidParams, "\(path).\(key) is required (an integer)")
        }
        return number
    }

    func optionalInteger(_ key: String) throws(WorkRecordError) -> Int64? {
        switch members[key] {
        case nil, .null?: return nil
        case .integer(let number)?: return number
        default: throw WorkRecordError(.invalidParams, "\(path).\(key) must be an integer")
        }
    }

    func optionalBool(_ key: String) throws(WorkRecordError) -> Bool? {
        switch members[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw WorkRecordError(.invalidParams, "\(path).\(key) must be true or false")
        }
    }

    func decimal(_ key: String) throws(WorkRecordError) -> ExactDecimal {
        guard let value = try optionalDecimal(key) else {
            throw WorkRecordError(.invalidParams, "\(path).\(key) is required (a decimal written as a string, e.g. \"12.345\")")
        }
        return value
    }

    func optionalDecimal(_ key: String) throws(WorkRecordError) -> ExactDecimal? {
        guard let text = try optionalStringOrRejectNumber(key) else { return nil }
        do {
            return try ExactDecimal(parsing: text)
        } catch {
            throw WorkRecordError(.invalidParams, "\(path).\(key) '\(text)' is not a decimal number: \(error)")
        }
    }

    func unit(_ key: String) throws(WorkRecordError) -> MeasurementUnit {
        let code = try string(key)
        guard let unit = MeasurementUnit(code: code) else {
            throw WorkRecordError(
                .invalidParams, "\(path).\(key) '\(code)' is not a unit; one of: \(MeasurementUnit.allCodes.joined(separator: ", "))")
        }
        return unit
    }

    func object(_ key: String) throws(WorkRecordError) -> Parameters {
        guard let value = members[key], !value.isNull else {
            throw WorkRecordError(.invalidParams, "\(path).\(key) is required (an object)")
        }
        return try Parameters(value, path: "\(path).\(key)")
    }

    func optionalObject(_ key: String) throws(WorkRecordError) -> Parameters? {
        guard let value = members[key], !value.isNull else { return nil }
        return try Parameters(value, path: "\(path).\(key)")
    }

    func array(_ key: String) throws(WorkRecordError) -> [JSONValue] {
        switch members[key] {
        case nil, .null?: return []
        case .array(let elements)?: return elements
        default: throw WorkRecordError(.invalidParams, "\(path).\(key) must be an array")
        }
    }

    /// One of `allowed`, named in the error when it is not.
    func choice(_ key: String, of allowed: [String]) throws(WorkRecordError) -> String {
        let value = try string(key)
        guard allowed.contains(value) else {
            throw WorkRecordError(.invalidParams, "\(path).\(key) '\(value)' is not one of: \(allowed.joined(separator: ", "))")
        }
        return value
    }

    private func optionalStringOrRejectNumber(_ key: String) throws(WorkRecordError) -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .integer?, .number?:
            throw WorkRecordError(.invalidParams, "\(path).\(key) must be a decimal written as a string (e.g. \"12.345\"), not a JSON number")
        default: throw WorkRecordError(.invalidParams, "\(path).\(key) must be a decimal written as a string")
        }
    }
}

