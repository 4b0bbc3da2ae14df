import FloorgateCore

/// Where each field of a tightening result stands in a MID 0061 / 0065 frame, per revision
/// (PROTOCOLS.md §4.4). Offsets count from the frame's first header byte and point at the value;
/// in parameter-numbered layouts the 2-digit parameter id stands just before it.
struct TighteningLayout: Sendable {
    /// One field: its parameter id (nil in revision 999, which has none), value offset and width,
    /// and the result field it fills (nil for fields Floorgate does not emit).
    struct Field: Sendable {
        let id: Int?
        let offset: Int
        let width: Int
        let target: TighteningField?
    }

    let fields: [Field]
    /// The frame content length (header + data, without the NUL) this layout describes.
    let contentLength: Int

    init(_ fields: [Field]) {
        self.fields = fields
        contentLength = fields.map { $0.offset + $0.width }.max() ?? OpenProtocolHeader.length
    }

    /// A layout of parameter-numbered fields laid out back to back from offset 20:
    /// each entry is (parameter id, width, target).
    static func numbered(_ entries: [(Int, Int, TighteningField?)]) -> TighteningLayout {
        TighteningLayout([]).appending(entries)
    }

    /// This layout followed by more parameter-numbered fields.
    func appending(_ entries: [(Int, Int, TighteningField?)]) -> TighteningLayout {
        var offset = contentLength
        var fields = self.fields
        for (id, width, target) in entries {
            fields.append(Field(id: id, offset: offset + 2, width: width, target: target))
            offset += 2 + width
        }
        return TighteningLayout(fields)
    }
}

/// The result fields Floorgate reads from tightening frames, with how each is written.
enum TighteningField: Sendable {
    case cellID, channelID, parameterSet, tighteningID  // ids: kept as sent, spaces trimmed
    case controllerName, identifier, toolSerial, timestamp  // text
    case batchSize, batchCounter, angle, angleMinimum, angleMaximum, angleTarget  // counts and whole degrees
    case torque, torqueMinimum, torqueMaximum, torqueTarget  // ×100
    case status, torqueStatus, angleStatus, batchStatus  // one-digit codes
    case torqueUnit, resultType  // codes; unknown ones are left out
}

extension TighteningLayout {
    /// MID 0061 revision 1 (length 0231).
    static let lastResultRevision1 = numbered([
        (1, 4, .cellID), (2, 2, .channelID), (3, 25, .controllerName), (4, 25, .identifier), (5, 2, nil),
        (6, 3, .parameterSet), (7, 4, .batchSize), (8, 4, .batchCounter), (9, 1, .status), (10, 1, .torqueStatus),
        (11, 1, .angleStatus), (12, 6, .torqueMinimum), (13, 6, .torqueMaximum), (14, 6, .torqueTarget),
        (15, 6, .torque), (16, 5, .angleMinimum), (17, 5, .angleMaximum), (18, 5, .angleTarget), (19, 5, .angle),
        (20, 19, .timestamp), (21, 19, nil), (22, 1, .batchStatus), (23, 10, .tighteningID),
    ])

    /// MID 0061 revision 2 (length 0385).
    static let lastResultRevision2 = numbered([
        (1, 4, .cellID), (2, 2, .channelID), (3, 25, .controllerName), (4, 25, .identifier), (5, 4, nil),
        (6, 3, .parameterSet), (7, 2, nil), (8, 5, nil), (9, 4, .batchSize), (10, 4, .batchCounter),
        (11, 1, .status), (12, 1, .batchStatus), (13, 1, .torqueStatus), (14, 1, .angleStatus),
        (15, 1, nil), (16, 1, nil), (17, 1, nil), (18, 1, nil), (19, 1, nil), (20, 10, nil),
        (21, 6, .torqueMinimum), (22, 6, .torqueMaximum), (23, 6, .torqueTarget), (24, 6, .torque),
        (25, 5, .angleMinimum), (26, 5, .angleMaximum), (27, 5, .angleTarget), (28, 5, .angle),
        (29, 5, nil), (30, 5, nil), (31, 5, nil), (32, 3, nil), (33, 3, nil), (34, 3, nil),
        (35, 6, nil), (36, 6, nil), (37, 6, nil), (38, 6, nil), (39, 6, nil), (40, 6, nil),
        (41, 10, .tighteningID), (42, 5, nil), (43, 5, nil), (44, 14, .toolSerial), (45, 19, .timestamp),
        (46, 19, nil),
    ])

    /// MID 0061 revision 3 (length 0419): revision 2 + parameter set name, torque unit, result type.
    static let lastResultRevision3 = lastResultRevision2.appending([(47, 25, nil), (48, 1, .torqueUnit), (49, 2, .resultType)])

    /// MID 0061 revision 999 (length 0121): fixed positions, no parameter ids.
    static let lastResultRevision999 = TighteningLayout([
        Field(id: nil, offset: 20, width: 25, target: .identifier), Field(id: nil, offset: 45, width: 2, target: nil),
        Field(id: nil, offset: 47, width: 3, target: .parameterSet), Field(id: nil, offset: 50, width: 4, target: .batchSize),
        Field(id: nil, offset: 54, width: 4, target: .batchCounter), Field(id: nil, offset: 58, width: 1, target: .batchStatus),
        Field(id: nil, offset: 59, width: 1, target: .status), Field(id: nil, offset: 60, width: 1, target: .torqueStatus),
        Field(id: nil, offset: 61, width: 1, target: .angleStatus), Field(id: nil, offset: 62, width: 6, target: .torque),
        Field(id: nil, offset: 68, width: 5, target: .angle), Field(id: nil, offset: 73, width: 19, target: .timestamp),
        Field(id: nil, offset: 92, width: 19, target: nil), Field(id: nil, offset: 111, width: 10, target: .tighteningID),
    ])

    /// MID 0065 revision 1 (length 0118).
    static let oldResultRevision1 = numbered([
        (1, 10, .tighteningID), (2, 25, .identifier), (3, 3, .parameterSet), (4, 4, .batchCounter), (5, 1, .status),
        (6, 1, .torqueStatus), (7, 1, .angleStatus), (8, 6, .torque), (9, 5, .angle), (10, 19, .timestamp),
        (11, 1, .batchStatus),
    ])

    /// MID 0065 revision 2 (length 0226).
    static let oldResultRevision2 = numbered([
        (1, 10, .tighteningID), (2, 25, .identifier), (3, 4, nil), (4, 3, .parameterSet), (5, 2, nil), (6, 5, nil),
        (7, 4, .batchSize), (8, 4, .batchCounter), (9, 1, .status), (10, 1, .batchStatus), (11, 1, .torqueStatus),
        (12, 1, .angleStatus), (13, 1, nil), (14, 1, nil), (15, 1, nil), (16, 1, nil), (17, 1, nil), (18, 10, nil),
        (19, 6, .torque), (20, 5, .angle), (21, 5, nil), (22, 3, nil), (23, 6, nil), (24, 6, nil), (25, 5, nil),
        (26, 5, nil), (27, 14, .toolSerial), (28, 19, .timestamp),
    ])

    /// MID 0065 revision 3 (length 0233): revision 2 + torque unit and result type.
    static let oldResultRevision3 = oldResultRevision2.appending([(29, 1, .torqueUnit), (30, 2, .resultType)])

    /// The layout for a MID 0061 / 0065 revision, and whether the data may run longer than it
    /// (revisions that only append fields are read through their revision-3 prefix).
    static func layout(mid: Int, revision: Int) -> (layout: TighteningLayout, mayBeLonger: Bool)? {
        switch (mid, revision) {
        case (61, 1): (lastResultRevision1, false)
        case (61, 2): (lastResultRevision2, false)
        case (61, 3): (lastResultRevision3, false)
        case (61, 4...11), (61, 998): (lastResultRevision3, true)
        case (61, 999): (lastResultRevision999, false)
        case (65, 1): (oldResultRevision1, false)
        case (65, 2): (oldResultRevision2, false)
        case (65, 3): (oldResultRevision3, false)
        case (65, 4...11): (oldResultRevision3, true)
        default: nil
        }
    }
}
