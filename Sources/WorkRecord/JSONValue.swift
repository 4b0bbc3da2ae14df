import FloorgateCore
public import Foundation

/// A JSON value as the record socket carries it. Decimal quantities travel as strings
/// (INTERFACES.md "Decimal values"), so numbers here are only counts and ids.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses one JSON text.
    public init(parsing data: some DataProtocol) throws(WorkRecordError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: Data(data))
        } catch {
            throw WorkRecordError(.parseError, "the line is not valid JSON")
        }
    }

    /// The value's member `key` when it is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Compact JSON with object keys sorted, so equal values always print the same text.
    public var text: String {
        var output = ""
        append(to: &output)
        return output
    }

    private func append(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .number(let number): output += number.isFinite ? "\(number)" : "null"
        case .string(let text): JSONObjectWriter.appendQuoted(text, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.append(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                JSONObjectWriter.appendQuoted(key, to: &output)
                output += ":"
                members[key, default: .null].append(to: &output)
            }
            output += "}"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let number): try container.encode(number)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let members): try container.encode(members)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
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
