import Benchmark
import DeviceProtocols
import FloorgateCore

/// A stream of about 1 MiB made of one device's typical frames, with a few noisy ones mixed in
/// (one in 64), fed in 4 KiB reads as a serial port would deliver them.
struct DecodeWorkload {
    let protocolID: String
    let bytes: [UInt8]
    let frames: Int

    init(protocolID: String, frames typical: [[UInt8]], noise: [UInt8]) {
        self.protocolID = protocolID
        var bytes: [UInt8] = []
        var frames = 0
        while bytes.count < 1 << 20 {
            bytes += typical[frames % typical.count]
            frames += 1
            if frames % 64 == 0 { bytes += noise }
        }
        self.bytes = bytes
        self.frames = frames
    }

    /// The benchmark's name carries the workload's size, so BENCHMARKS.md can derive MB/s and
    /// ns/frame from the time per iteration.
    var name: String { "decode \(protocolID) [\(bytes.count) B, \(frames) frames]" }

    func run() -> Int {
        guard let entry = ProtocolCatalog.entry(id: protocolID) else { return 0 }
        var decoder = entry.makeDecoder()
        var events = 0
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 4096)
            events += decoder.feed(bytes[start..<end]).count
            start = end
        }
        return events + decoder.finish().count
    }
}

private func ascii(_ lines: [String]) -> [[UInt8]] { lines.map { Array($0.utf8) } }

/// A MID 0061 frame as a controller sends it.
private func openProtocolResult(revision: Int) -> [UInt8] {
    var result = TighteningResult()
    result.tighteningID = "0000345675"
    result.status = .ok
    result.torque = ExactDecimal(1205, scale: 2)
    result.torqueMinimum = ExactDecimal(1100, scale: 2)
    result.torqueMaximum = ExactDecimal(1300, scale: 2)
    result.angle = ExactDecimal(62, scale: 0)
    result.controllerName = "PF6000-Line2"
    result.identifier = "SN-88421"
    result.timestamp = "2026-01-01:00:00:00"
    result.torqueUnit = .newtonMetre
    return OpenProtocolEncoder.tighteningResult(result, revision: revision) ?? []
}

/// The boot-keyboard reports of a US-layout wedge typing `text` (press and release per
/// character, Enter at the end), from the layout's own table.
private func keyboardScan(_ text: String) -> [UInt8] {
    let layout = KeyboardLayout.factoryDefault
    var reports: [UInt8] = []
    for character in text.unicodeScalars {
        for usage in UInt8(0x04)...0x38 {
            let level = [false, true].map { KeyboardLayout.Level(shift: $0, altGr: false) }.first { layout.character(usage: usage, level: $0) == character }
            guard let level else { continue }
            reports += [level.shift ? 0x02 : 0, 0, usage, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
            break
        }
    }
    return reports + [0, 0, 0x28, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
}

/// A HID POS report holding a whole scan.
private func posReport(aim: String, _ data: String) -> [UInt8] {
    var report = [UInt8](repeating: 0, count: 64)
    report[0] = 0x02
    report[1] = UInt8(data.utf8.count)
    report.replaceSubrange(2..<5, with: aim.utf8)
    report.replaceSubrange(5..<(5 + data.utf8.count), with: data.utf8)
    return report
}

let workloads = [
    DecodeWorkload(protocolID: "mitutoyo", frames: ascii(["01A+0012.345\r", "01A-0000.019\r", "02A+0103.250\r\n"]), noise: [0xFF, 0x00]),
    DecodeWorkload(protocolID: "uwave", frames: ascii(["DT10001+0012.345M\r", "DT10002-0000.500I\r"]), noise: Array("ST01\r".utf8)),
    DecodeWorkload(protocolID: "sylvac", frames: ascii(["+012.34\r", "-000.50\r", " 025.000\r"]), noise: Array("ERR3\r".utf8)),
    DecodeWorkload(protocolID: "torque-ascii", frames: ascii(["368.4 N.m\r", "-18.78 lbFin\r\n", "4.285 Nm\r\n"]), noise: Array("abc\r".utf8)),
    DecodeWorkload(
        protocolID: "open-protocol",
        frames: [
            openProtocolResult(revision: 1), OpenProtocolEncoder.keepAlive(), openProtocolResult(revision: 3),
            openProtocolResult(revision: 2),
        ],
        noise: Array("0231006100".utf8)
    ),
    DecodeWorkload(
        protocolID: "digimatic",
        frames: [[0x0F, 0x0F, 0x0F, 0x0F, 0x00, 0x02, 0x01, 0x00, 0x07, 0x06, 0x05, 0x04, 0x00]],
        noise: [0x55, 0xAA]
    ),
    DecodeWorkload(
        protocolID: "scanner-serial",
        frames: ascii(["]C1010429817350024310LOT-7\u{1D}21SN0042\r\n", "]C0WO-2024-0815\r\n"]),
        noise: [0x00]
    ),
    DecodeWorkload(protocolID: "hid-keyboard", frames: [keyboardScan("]C0SN-0042"), keyboardScan("WO-2024-0815")], noise: [0, 0, 0x3A, 0, 0, 0, 0, 0]),
    DecodeWorkload(
        protocolID: "hid-pos",
        frames: [posReport(aim: "]C1", "010429817350024310LOT-7\u{1D}21SN0042"), posReport(aim: "]C0", "WO-2024-0815")],
        noise: [UInt8](repeating: 0x04, count: 64)
    ),
]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    // The floor under every line decoder: looking at each byte of the same 1 MiB once, in the
    // same 4 KiB reads, and counting line ends. BENCHMARKS.md reports decoders relative to it,
    // a ratio that holds when the machine's speed varies between runs.
    let baselineInput = workloads[0].bytes
    Benchmark("baseline: scan \(baselineInput.count) B for line ends") { benchmark in
        for _ in benchmark.scaledIterations {
            var lineEnds = 0
            var start = 0
            while start < baselineInput.count {
                let end = min(baselineInput.count, start + 4096)
                for byte in baselineInput[start..<end] where byte == 0x0D || byte == 0x0A {
                    lineEnds += 1
                }
                start = end
            }
            blackHole(lineEnds)
        }
    }

    for workload in workloads {
        Benchmark(workload.name) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(workload.run())
            }
        }
    }

    let perOperation = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3)
    )

    Benchmark("decimal parse '+0012.345' (per op)", configuration: perOperation) { benchmark in
        let text: [UInt8] = Array("+0012.345".utf8)
        for _ in benchmark.scaledIterations {
            blackHole(text.withUnsafeBytes { try? ExactDecimal(parsingASCII: $0) })
        }
    }

    Benchmark("convert 25.40 mm to in at scale 5 (per op)", configuration: perOperation) { benchmark in
        let reading = Measurement(ExactDecimal(2540, scale: 2), .millimetre)
        for _ in benchmark.scaledIterations {
            blackHole(try? reading.converted(to: .inch, scale: 5))
        }
    }

    Benchmark("verdict 25.40 mm against limits in inches (per op)", configuration: perOperation) { benchmark in
        let limits = Limits(lower: ExactDecimal(9990, scale: 4), upper: ExactDecimal(10000, scale: 4), unit: .inch)
        let reading = Measurement(ExactDecimal(2540, scale: 2), .millimetre)
        for _ in benchmark.scaledIterations {
            blackHole(limits.verdict(for: reading))
        }
    }

    Benchmark("parse + convert + verdict, lbf.in reading vs N.m limits (per op)", configuration: perOperation) { benchmark in
        let text: [UInt8] = Array("-18.78".utf8)
        let limits = Limits(lower: ExactDecimal(-3, scale: 0), upper: ExactDecimal(-1, scale: 0), unit: .newtonMetre)
        for _ in benchmark.scaledIterations {
            guard let value = text.withUnsafeBytes({ try? ExactDecimal(parsingASCII: $0) }) else { continue }
            let reading = Measurement(value, .poundForceInch)
            blackHole(limits.verdict(for: reading))
            blackHole(try? reading.converted(to: .newtonMetre, scale: 4))
        }
    }
}
