import FloorgateCore
import RecordProtocol
import Testing

@Suite("What changed between two revisions of an instruction")
struct InstructionDifferenceTests {
    /// Revision A as `instruction.get` gives it (the example import's instruction).
    static let revisionA: JSONValue = [
        "revision": "A", "title": "Housing final assembly",
        "steps": [
            ["key": "10", "title": "Check housing bore", "text": "Measure the bore at two places 90 degrees apart with the caliper.",
             "points": [["name": "bore diameter", "kind": "measure", "unit": "mm", "nominal": "12.000", "lower": "11.980", "upper": "12.020", "count": 2]]],
            ["key": "20", "title": "Fit sensor board", "text": "Scan the board's lot label, then seat the board on its posts.",
             "points": [["name": "board lot", "kind": "scan", "count": 1]]],
            ["key": "30", "title": "Torque cover screws", "text": "Fit the cover; tighten the four M3 screws crosswise with the torque tool.",
             "points": [["name": "cover screws", "kind": "torque", "unit": "N.m", "lower": "1.10", "upper": "1.30", "count": 4, "pset": "3"]]],
        ],
    ]

    @Test("the same text word for word is no change; whitespace is not a word")
    func sameWords() {
        #expect(WordEdit.changes(from: "Fit the  cover;\ttighten", to: "Fit the cover; tighten") == nil)
        #expect(InstructionDifference(from: Self.revisionA, to: Self.revisionA).isEmpty)
        #expect(InstructionDifference(from: Self.revisionA, to: Self.revisionA).lines == ["no change"])
    }

    @Test("words are marked removed and added where they changed, the rest kept, removals before additions")
    func words() {
        #expect(WordEdit.changes(from: "tighten the four M3 screws crosswise with the torque tool", to: "tighten the four M3 screws crosswise to 1.25 N.m")
            == [.same("tighten the four M3 screws crosswise"), .removed("with the torque tool"), .added("to 1.25 N.m")])
        #expect(WordEdit.changes(from: "", to: "new words") == [.added("new words")])
        #expect(WordEdit.changes(from: "old words", to: "") == [.removed("old words")])
        #expect(WordEdit.changes(from: "a b c d", to: "a x c y") == [.same("a"), .removed("b"), .added("x"), .same("c"), .removed("d"), .added("y")])
    }

    @Test("a redline: a changed text and limit, a step added, a point removed, each named; unchanged steps left out")
    func redline() {
        var steps = Self.revisionA["steps"]?.arrayValue ?? []
        steps[1] = ["key": "20", "title": "Fit sensor board", "text": "Seat the board on its posts.", "points": []]
        steps[2] = ["key": "30", "title": "Torque cover screws", "text": "Fit the new gasket and the cover; tighten the four M3 screws crosswise with the torque tool.",
                    "points": [["name": "cover screws", "kind": "torque", "unit": "N.m", "lower": "1.20", "upper": "1.40", "count": 4, "pset": "4"]]]
        steps.append(["key": "40", "title": "Leak test", "text": "Pressurise to 2 bar.", "points": [["name": "leak rate", "kind": "measure", "unit": "mm", "upper": "0.5", "count": 1]]])
        let revisionB: JSONValue = ["revision": "B", "title": "Housing final assembly", "steps": .array(steps)]
        let difference = InstructionDifference(from: Self.revisionA, to: revisionB)
        #expect(difference.title == nil)
        #expect(difference.steps.map(\.key) == ["20", "30", "40"])
        #expect(difference.lines == [
            "step 20 'Fit sensor board': changed",
            "  text: [-Scan-] {+Seat+} the [-board's lot label, then seat the-] board on its posts.",
            "  point 'board lot': removed",
            "step 30 'Torque cover screws': changed",
            "  text: Fit the {+new gasket and the+} cover; tighten the four M3 screws crosswise with the torque tool.",
            "  point 'cover screws': lower 1.10 → 1.20; pset 3 → 4; upper 1.30 → 1.40",
            "step 40 'Leak test': added",
            "  text: {+Pressurise to 2 bar.+}",
            "  point 'leak rate': added (count 1, kind measure, unit mm, upper 0.5)",
        ])
        let json = difference.json
        let screws = json["steps"]?.arrayValue?[1]["points"]?.arrayValue?.first
        #expect(screws?["change"] == "changed")
        #expect(screws?["fields"]?.arrayValue?.first == ["field": "lower", "from": "1.10", "to": "1.20"])
        #expect(json["steps"]?.arrayValue?[2]["change"] == "added")
        #expect(json["title"] == .null)
    }

    @Test("a step removed is named once; a title change is word by word")
    func removedStep() {
        let shorter: JSONValue = ["title": "Housing assembly", "steps": .array(Array((Self.revisionA["steps"]?.arrayValue ?? []).prefix(2)))]
        let difference = InstructionDifference(from: Self.revisionA, to: shorter)
        #expect(difference.lines == ["title: Housing [-final-] assembly", "step 30 'Torque cover screws': removed"])
        #expect(difference.json["title"] == [["same": "Housing"], ["removed": "final"], ["same": "assembly"]])
    }

    @Test("texts too long to compare word by word show as wholly replaced")
    func longTexts() {
        let old = Array(repeating: "old", count: 600).joined(separator: " "), new = Array(repeating: "new", count: 600).joined(separator: " ")
        #expect(WordEdit.changes(from: old, to: new) == [.removed(old), .added(new)])
    }
}
