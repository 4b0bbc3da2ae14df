import FloorgateCore
import Testing

@Suite("What the log says of skipped bytes", .timeLimit(.minutes(1)))
struct SkippedBytesReportTests {
    @Test("one line at most per interval, with the count since the last and the first 16 bytes in hex, never the bytes")
    func boundedLines() {
        var report = SkippedBytesReport(interval: .seconds(10))
        let start = ContinuousClock.now
        let first = report.note([UInt8](repeating: 0xAB, count: 4096), at: start)
        #expect(first == "4096 bytes in 1 run skipped; the first begins " + String(repeating: "ab", count: 16) + "…")
        // A device sending noise: 1,000 more runs within the interval, not one line.
        var lines = 0
        for step in 1...1_000 {
            if report.note([UInt8](repeating: 0x01, count: 4096), at: start + .milliseconds(step * 5)) != nil { lines += 1 }
        }
        #expect(lines == 0)
        let later = report.note([0x02], at: start + .seconds(11))
        #expect(later == "4096001 bytes in 1001 runs skipped since the last report; the first begins " + String(repeating: "01", count: 16) + "…")
        #expect((later?.utf8.count ?? 0) < 200)
    }
}
