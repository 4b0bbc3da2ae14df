import FloorgateCore
import RecordProtocol

/// The steps of one instruction revision: what the operator does and which data the record
/// collects at each step. Stored as canonical JSON in the revision's row; once the revision is
/// approved it never changes.
struct InstructionContent: Sendable {
    var steps: [Step]

    /// One step: stable key (kept across revisions, so a redline can say which steps changed),
    /// title, the operator's text and its data-collection points.
    struct Step: Sendable {
        var key: String
        var title: String
        var text: String
        var points: [Point]
        /// The pictures the step shows, in order (none for a step without).
        var pictures: [Picture] = []
    }

    /// A data-collection point: what is measured, against which limits, by which kind of device,
    /// how many times.
    struct Point: Sendable {
        enum Kind: String, Sendable, CaseIterable {
            /// A gauge reading (length, force, mass, temperature…).
            case measure
            /// A tightening: torque limits and optionally an angle window.
            case torque
            /// A scanned label: recorded as text, not judged.
            case scan
            /// A component built into the unit, identified by its scanned label: the label must be
            /// the point's part (by GTIN or HIBC product), unexpired, and a serialized component may
            /// go into one unit only. What is accepted joins the unit's as-built list.
            case component
            /// The unit's own UDI label, scanned to verify what was printed: it must carry exactly
            /// the unit's UDI (DI and PI), else the result is invalid and raises a nonconformance.
            case label

            /// Whether a scanner's reading fills a point of this kind.
            var takesScans: Bool { self == .scan || self == .component || self == .label }
        }

        /// What a component point takes: which part, how many, and how it is traced.
        struct Component: Sendable, Equatable {
            enum Control: String, Sendable, CaseIterable {
                /// One scan of the lot's label covers the point's quantity.
                case lot
                /// One scan per piece, each with its own serial.
                case serial
            }

            /// The component's part number.
            var part: String
            var control: Control
            var quantity: Int
            /// For labels that are plain text (no GS1 or HIBC): a regular expression the whole
            /// text must match; the text is then the lot or serial. Without it, plain text is refused.
            var pattern: String?
        }

        var name: String
        var kind: Kind
        var limits: Limits?
        /// How many results the point takes (a torque batch of four screws is 4).
        var count: Int
        /// The device kind that may feed the point: gauge, torque or scanner.
        var deviceKind: String
        /// When set, only a device with this profile may feed the point.
        var deviceProfile: String?
        /// The tightening program (parameter set) a commanded controller runs for the point.
        var pset: String?
        /// The controller's job to select instead of the program, where the point names one.
        var job: String?
        /// What a component point takes (nil for other kinds).
        var component: Component?
        /// Whether a device the calibration register does not know (or holds out of service or
        /// overdue) may feed the point: an uncalibrated reference device, admitted explicitly.
        var allowsUncalibrated = false

        /// The quantity a result must carry to fill the point (nil for scan points).
        var quantity: QuantityKind? { limits?.unit.quantity }
    }

    /// A picture a step shows: the hash of a picture the record holds (`media.put`), and its caption.
    struct Picture: Sendable, Equatable {
        var hash: String
        var caption: String

        var json: JSONValue { ["hash": .string(hash), "caption": .string(caption)] }
    }

    func step(_ key: String) -> Step? { steps.first { $0.key == key } }
}

extension InstructionContent {
    /// Reads the `steps` array of an import file or a redline, naming the offending entry.
    init(steps value: [JSONValue], path: String) throws(WorkRecordError) {
        var steps: [Step] = []
        for (index, element) in value.enumerated() {
            let params = try Parameters(element, path: "\(path)[\(index)]")
            var points: [Point] = []
            for (pointIndex, pointValue) in try params.array("points").enumerated() {
                points.append(try Point(Parameters(pointValue, path: "\(params.path).points[\(pointIndex)]")))
            }
            var pictures: [Picture] = []
            for (pictureIndex, pictureValue) in try params.array("pictures").enumerated() {
                let picture = try Parameters(pictureValue, path: "\(params.path).pictures[\(pictureIndex)]")
                let hash = try picture.string("hash")
                guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
                    throw WorkRecordError(.invalidParams, "\(picture.path).hash must be a picture's SHA-256 in lowercase hex (as media.put answers)")
                }
                pictures.append(Picture(hash: hash, caption: try picture.optionalString("caption") ?? ""))
            }
            let step = Step(
                key: try params.string("key"), title: try params.string("title"),
                text: try params.optionalString("text") ?? "", points: points, pictures: pictures)
            guard !steps.contains(where: { $0.key == step.key }) else {
                throw WorkRecordError(.invalidParams, "\(params.path).key '\(step.key)' is used by two steps")
            }
            guard Set(points.map(\.name)).count == points.count else {
                throw WorkRecordError(.invalidParams, "\(params.path): two points share a name")
            }
            steps.append(step)
        }
        guard !steps.isEmpty else { throw WorkRecordError(.invalidParams, "\(path) must list at least one step") }
        self.steps = steps
    }

    /// Reads the content stored in an instruction row.
    init(storedText text: String) throws(WorkRecordError) {
        let value = try JSONValue(recordText: Array(text.utf8))
        try self.init(steps: value["steps"]?.arrayValue ?? [], path: "instruction.steps")
    }

    /// The canonical JSON stored in the row and shown to clients.
    var json: JSONValue {
        .object(["steps": .array(steps.map(\.json))])
    }
}

extension InstructionContent.Step {
    var json: JSONValue {
        var members: [String: JSONValue] = ["key": .string(key), "title": .string(title), "text": .string(text), "points": .array(points.map(\.json))]
        // A step without pictures keeps the content it always had.
        if !pictures.isEmpty {
            members["pictures"] = .array(pictures.map(\.json))
        }
        return .object(members)
    }
}

extension InstructionContent.Point {
    init(_ params: Parameters) throws(WorkRecordError) {
        name = try params.string("name")
        kind = try Kind(rawValue: params.choice("kind", of: Kind.allCases.map(\.rawValue))) ?? .measure
        count = Int(try params.optionalInteger("count") ?? 1)
        guard (1...1000).contains(count) else { throw WorkRecordError(.invalidParams, "\(params.path).count must be 1…1000") }
        let defaultDevice = switch kind {
        case .measure: "gauge"
        case .torque: "torque"
        case .scan, .component, .label: "scanner"
        }
        deviceKind = try params.optionalString("device_kind") ?? defaultDevice
        deviceProfile = try params.optionalString("device_profile")
        pset = try params.optionalString("pset")
        job = try params.optionalString("job")
        allowsUncalibrated = try params.optionalBool("allow_uncalibrated") ?? false
        if kind == .component {
            let control = try Component.Control(rawValue: params.optionalString("control") ?? "lot")
            guard let control else { throw WorkRecordError(.invalidParams, "\(params.path).control must be lot or serial") }
            let quantity = Int(try params.optionalInteger("quantity") ?? 1)
            guard (1...1000).contains(quantity) else { throw WorkRecordError(.invalidParams, "\(params.path).quantity must be 1…1000") }
            let pattern = try params.optionalString("pattern")
            if let pattern, (try? Regex(pattern)) == nil {
                throw WorkRecordError(.invalidParams, "\(params.path).pattern '\(pattern)' is not a regular expression")
            }
            component = Component(part: try params.string("part"), control: control, quantity: quantity, pattern: pattern)
            // A serialized component takes a scan per piece; a lot's label covers them all.
            count = control == .serial ? quantity : 1
        }
        guard !kind.takesScans else {
            limits = nil
            return
        }
        let unit = try params.unit("unit")
        if kind == .torque, unit.quantity != .torque {
            throw WorkRecordError(.invalidParams, "\(params.path).unit '\(unit.code)' is not a torque unit")
        }
        let angleMinimum = try params.optionalDecimal("angle_min")
        let angleMaximum = try params.optionalDecimal("angle_max")
        let window = angleMinimum == nil && angleMaximum == nil ? nil : AngleWindow(minimum: angleMinimum, maximum: angleMaximum)
        let nominal = try params.optionalDecimal("nominal")
        if let nominal, params.members["minus"] != nil || params.members["plus"] != nil {
            let minus = try params.optionalDecimal("minus"), plus = try params.optionalDecimal("plus")
            do {
                limits = try Limits(nominal: nominal, minus: minus, plus: plus, unit: unit, angleWindow: window)
            } catch {
                throw WorkRecordError(.invalidParams, "\(params.path): the tolerances put the limits out of range")
            }
        } else {
            let lower = try params.optionalDecimal("lower"), upper = try params.optionalDecimal("upper")
            if let lower, let upper, lower.valueOrder(comparedTo: upper) == .greater {
                throw WorkRecordError(.invalidParams, "\(params.path): lower limit \(lower) is above upper limit \(upper)")
            }
            // Stored revisions carry the nominal beside the limits it produced.
            limits = Limits(lower: lower, upper: upper, unit: unit, angleWindow: window)
            limits?.nominal = nominal
        }
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "kind": .string(kind.rawValue), "count": .integer(Int64(count)),
            "device_kind": .string(deviceKind),
        ]
        if let deviceProfile { members["device_profile"] = .string(deviceProfile) }
        if let component {
            members["part"] = .string(component.part)
            members["control"] = .string(component.control.rawValue)
            members["quantity"] = .integer(Int64(component.quantity))
            if let pattern = component.pattern { members["pattern"] = .string(pattern) }
        }
        if let pset { members["pset"] = .string(pset) }
        if let job { members["job"] = .string(job) }
        // Only when set: revisions stored before the flag keep the content they always had.
        if allowsUncalibrated { members["allow_uncalibrated"] = .bool(true) }
        if let limits {
            members["unit"] = .string(limits.unit.code)
            if let nominal = limits.nominal { members["nominal"] = .string(nominal.description) }
            if let lower = limits.lower { members["lower"] = .string(lower.description) }
            if let upper = limits.upper { members["upper"] = .string(upper.description) }
            if let minimum = limits.angleWindow?.minimum { members["angle_min"] = .string(minimum.description) }
            if let maximum = limits.angleWindow?.maximum { members["angle_max"] = .string(maximum.description) }
        }
        return .object(members)
    }
}
