@testable import DeviceIO
import Testing

@Suite("Tightening id sequence", .timeLimit(.minutes(1)))
struct TighteningSequenceTests {
    @Test("ids skipped between two results are the ones to ask for, at most the limit, the most recent")
    func gaps() {
        var sequence = TighteningSequence(highest: nil)
        #expect(sequence.record("0000000005", limit: 100) == nil)  // nothing known before
        #expect(sequence.record("0000000006", limit: 100) == nil)
        #expect(sequence.record("0000000011", limit: 100) == 7..<11)
        #expect(sequence.record("0000000011", limit: 100) == nil)  // sent again
        #expect(sequence.record("0000000009", limit: 100) == nil)  // an old result arriving
        #expect(sequence.record("0000000500", limit: 3) == 497..<500)
        #expect(sequence.record(nil, limit: 3) == nil)
        #expect(sequence.record("not a number", limit: 3) == nil)
    }

    @Test("small ids and huge ids do not overflow")
    func bounds() {
        var small = TighteningSequence(highest: 1)
        #expect(small.record("3", limit: 100) == 2..<3)
        var huge = TighteningSequence(highest: UInt64.max - 1)
        #expect(huge.record(String(UInt64.max), limit: 100) == nil)
        var fromZero = TighteningSequence(highest: 0)
        #expect(fromZero.record(String(UInt64.max), limit: 2) == (UInt64.max - 2)..<UInt64.max)
    }
}
