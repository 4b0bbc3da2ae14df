public import FloorgateCore

/// What changed between two revisions of an instruction, as `instruction.get` gives each: steps
/// matched by key, points by name; titles and texts word by word; every field of a point
/// (limits, unit, count, program, kind) before and after; steps and points added or removed.
/// Unchanged steps are left out. Pure: no record access.
public struct InstructionDifference: Sendable, Equatable {
    /// The instruction's title word by word, or nil when it is unchanged.
    public var title: [WordEdit]?
    /// The steps that changed, in the new revision's order, then those removed.
    public var steps: [StepChange]

    /// Whether the two revisions say the same.
    public var isEmpty: Bool { title == nil && steps.isEmpty }

    public init(from old: JSONValue, to new: JSONValue) {
        title = WordEdit.changes(from: old["title"]?.stringValue ?? "", to: new["title"]?.stringValue ?? "")
        let oldSteps = old["steps"]?.arrayValue ?? [], newSteps = new["steps"]?.arrayValue ?? []
        let oldByKey = Dictionary(oldSteps.map { (Self.key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let newKeys = Set(newSteps.map(Self.key))
        steps = newSteps.compactMap { step in StepChange(from: oldByKey[Self.key(step)], to: step) }
            + oldSteps.filter { !newKeys.contains(Self.key($0)) }.compactMap { StepChange(from: $0, to: nil) }
    }

    static func key(_ step: JSONValue) -> String { step["key"]?.stringValue ?? step["key"]?.text ?? "" }

    /// The JSON form: `title` (word edits or null) and `steps`.
    public var json: JSONValue {
        ["title": title.map(WordEdit.json) ?? .null, "steps": .array(steps.map(\.json))]
    }

    /// The text form, one line a change: removed words `[-so-]`, added words `{+so+}` (marks that
    /// need no colour), a field `lower 1.10 → 1.20`.
    public var lines: [String] {
        guard !isEmpty else { return ["no change"] }
        var lines: [String] = []
        if let title { lines.append("title: " + WordEdit.text(title)) }
        for step in steps { lines += step.lines }
        return lines
    }
}

/// A step added, removed or changed.
public struct StepChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case added, removed, changed }

    public var key: String
    /// The step's title in the new revision (the old one's when removed).
    public var title: String
    public var kind: Kind
    /// The title and text word by word; nil when unchanged (an added step's are all added).
    public var titleEdits: [WordEdit]?
    public var textEdits: [WordEdit]?
    public var points: [PointChange]
    /// Pictures added and removed (a changed picture is a new hash: one removed, one added).
    public var pictures: [PictureChange]

    /// The change from `old` to `new` (either may be missing), or nil when the step is the same.
    init?(from old: JSONValue?, to new: JSONValue?) {
        guard let step = new ?? old else { return nil }
        key = InstructionDifference.key(step)
        title = step["title"]?.stringValue ?? ""
        kind = old == nil ? .added : new == nil ? .removed : .changed
        titleEdits = WordEdit.changes(from: old?["title"]?.stringValue ?? "", to: new?["title"]?.stringValue ?? "")
        textEdits = WordEdit.changes(from: old?["text"]?.stringValue ?? "", to: new?["text"]?.stringValue ?? "")
        let oldPoints = old?["points"]?.arrayValue ?? [], newPoints = new?["points"]?.arrayValue ?? []
        let oldByName = Dictionary(oldPoints.map { ($0["name"]?.stringValue ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(newPoints.map { $0["name"]?.stringValue ?? "" })
        points = newPoints.compactMap { PointChange(from: oldByName[$0["name"]?.stringValue ?? ""], to: $0) }
            + oldPoints.filter { !newNames.contains($0["name"]?.stringValue ?? "") }.compactMap { PointChange(from: $0, to: nil) }
        pictures = PictureChange.changes(from: old?["pictures"]?.arrayValue ?? [], to: new?["pictures"]?.arrayValue ?? [])
        if kind == .changed && titleEdits == nil && textEdits == nil && points.isEmpty && pictures.isEmpty { return nil }
    }

    var json: JSONValue {
        [
            "key": .string(key), "title": .string(title), "change": .string(kind.rawValue),
            "title_edits": titleEdits.map(WordEdit.json) ?? .null, "text_edits": textEdits.map(WordEdit.json) ?? .null,
            "points": .array(points.map(\.json)), "pictures": .array(pictures.map(\.json)),
        ]
    }

    var lines: [String] {
        var lines = ["step \(key) '\(title)': \(kind.rawValue)"]
        if kind != .removed {
            if let titleEdits, kind == .changed { lines.append("  title: " + WordEdit.text(titleEdits)) }
            if let textEdits { lines.append("  text: " + WordEdit.text(textEdits)) }
            lines += points.map { "  " + $0.line }
            lines += pictures.map { "  " + $0.line }
        }
        return lines
    }
}

/// A picture a step gained, lost or moved, named by its caption and its hash. A new caption on
/// the same picture is the old one removed and the new one added.
public struct PictureChange: Sendable, Equatable {
    /// The SHA-256 of the picture's bytes.
    public var hash: String
    /// The caption the step shows with it.
    public var caption: String
    /// Added, removed, or changed (the same picture and caption in another place).
    public var kind: StepChange.Kind

    /// The differences of the two sides' pictures, each picture being its hash and caption:
    /// removed ones first, then added ones, each in its side's order; when nothing was added or
    /// removed but the order changed, each picture that moved.
    static func changes(from old: [JSONValue], to new: [JSONValue]) -> [PictureChange] {
        func identity(_ picture: JSONValue) -> [String] { [picture["hash"]?.stringValue ?? "", picture["caption"]?.stringValue ?? ""] }
        func change(_ picture: JSONValue, _ kind: StepChange.Kind) -> PictureChange {
            PictureChange(hash: picture["hash"]?.stringValue ?? "", caption: picture["caption"]?.stringValue ?? "", kind: kind)
        }
        let oldIdentities = old.map(identity), newIdentities = new.map(identity)
        let changes = old.filter { !newIdentities.contains(identity($0)) }.map { change($0, .removed) }
            + new.filter { !oldIdentities.contains(identity($0)) }.map { change($0, .added) }
        guard changes.isEmpty, oldIdentities != newIdentities else { return changes }
        return new.enumerated().filter { index, picture in oldIdentities.firstIndex(of: identity(picture)) != index }.map { change($0.element, .changed) }
    }

    var json: JSONValue { ["hash": .string(hash), "caption": .string(caption), "change": .string(kind.rawValue)] }

    var line: String { "picture '\(caption)' (\(hash.prefix(12))…): \(kind == .changed ? "moved" : kind.rawValue)" }
}

/// A point added, removed or changed, with the fields that differ.
public struct PointChange: Sendable, Equatable {
    public var name: String
    public var kind: StepChange.Kind
    /// Each field that differs (every field of an added or removed point), by name.
    public var fields: [FieldChange]

    init?(from old: JSONValue?, to new: JSONValue?) {
        guard let point = new ?? old else { return nil }
        name = point["name"]?.stringValue ?? ""
        kind = old == nil ? .added : new == nil ? .removed : .changed
        let names = Set(Self.members(old).keys).union(Self.members(new).keys).subtracting(["name"]).sorted()
        fields = names.compactMap { field in
            let before = old?[field].flatMap(Self.text), after = new?[field].flatMap(Self.text)
            return before == after ? nil : FieldChange(field: field, from: before, to: after)
        }
        if kind == .changed && fields.isEmpty { return nil }
    }

    private static func members(_ point: JSONValue?) -> [String: JSONValue] {
        if case .object(let members)? = point { return members }
        return [:]
    }

    /// A field's value as text; nil when absent or null.
    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .null: nil
        case .string(let text): text
        default: value.text
        }
    }

    var json: JSONValue {
        ["name": .string(name), "change": .string(kind.rawValue), "fields": .array(fields.map(\.json))]
    }

    var line: String {
        switch kind {
        case .removed: "point '\(name)': removed"
        case .added: "point '\(name)': added (" + fields.map { "\($0.field) \($0.to ?? "")" }.joined(separator: ", ") + ")"
        case .changed: "point '\(name)': " + fields.map(\.text).joined(separator: "; ")
        }
    }
}

/// One field of a point before and after (nil: absent).
public struct FieldChange: Sendable, Equatable {
    public var field: String
    public var from: String?
    public var to: String?

    var json: JSONValue { ["field": .string(field), "from": from.map(JSONValue.string) ?? .null, "to": to.map(JSONValue.string) ?? .null] }

    var text: String { "\(field) \(from ?? "(none)") → \(to ?? "(none)")" }
}

/// A run of words kept, removed or added.
public enum WordEdit: Sendable, Equatable {
    case same(String)
    case removed(String)
    case added(String)

    /// Longest texts compared word by word (words of the old times words of the new); longer ones
    /// show as wholly removed and added.
    static let largestComparison = 250_000

    /// The words of `old` and `new` as runs kept, removed and added (a longest common
    /// subsequence of words), or nil when the texts are the same word for word.
    public static func changes(from old: String, to new: String) -> [WordEdit]? {
        let before = old.split(whereSeparator: \.isWhitespace).map(String.init)
        let after = new.split(whereSeparator: \.isWhitespace).map(String.init)
        guard before != after else { return nil }
        guard before.count * after.count <= largestComparison else {
            return [.removed(before.joined(separator: " ")), .added(after.joined(separator: " "))].filter { !$0.words.isEmpty }
        }
        // common[i][j]: the longest common subsequence of before[i...] and after[j...].
        var common = Array(repeating: Array(repeating: 0, count: after.count + 1), count: before.count + 1)
        for i in stride(from: before.count - 1, through: 0, by: -1) {
            for j in stride(from: after.count - 1, through: 0, by: -1) {
                common[i][j] = before[i] == after[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var edits: [WordEdit] = []
        var i = 0, j = 0
        while i < before.count || j < after.count {
            if i < before.count && j < after.count && before[i] == after[j] {
                edits.append(.same(before[i])); i += 1; j += 1
            } else if j < after.count && (i == before.count || common[i][j + 1] >= common[i + 1][j]) {
                edits.append(.added(after[j])); j += 1
            } else {
                edits.append(.removed(before[i])); i += 1
            }
        }
        return merged(edits)
    }

    /// Neighbouring words of one kind joined into one run; within a change, what was removed
    /// comes before what was added.
    private static func merged(_ edits: [WordEdit]) -> [WordEdit] {
        var runs: [WordEdit] = []
        var removed: [String] = [], added: [String] = [], same: [String] = []
        func flushChange() {
            if !removed.isEmpty { runs.append(.removed(removed.joined(separator: " "))) }
            if !added.isEmpty { runs.append(.added(added.joined(separator: " "))) }
            removed = []; added = []
        }
        func flushSame() {
            if !same.isEmpty { runs.append(.same(same.joined(separator: " "))) }
            same = []
        }
        for edit in edits {
            switch edit {
            case .same(let word): flushChange(); same.append(word)
            case .removed(let word): flushSame(); removed.append(word)
            case .added(let word): flushSame(); added.append(word)
            }
        }
        flushChange()
        flushSame()
        return runs
    }

    var words: String {
        switch self {
        case .same(let words), .removed(let words), .added(let words): words
        }
    }

    static func json(_ edits: [WordEdit]) -> JSONValue {
        .array(edits.map { edit in
            switch edit {
            case .same(let words): ["same": .string(words)]
            case .removed(let words): ["removed": .string(words)]
            case .added(let words): ["added": .string(words)]
            }
        })
    }

    /// `kept [-removed-] {+added+} kept`.
    static func text(_ edits: [WordEdit]) -> String {
        edits.map { edit in
            switch edit {
            case .same(let words): words
            case .removed(let words): "[-\(words)-]"
            case .added(let words): "{+\(words)+}"
            }
        }.joined(separator: " ")
    }
}
