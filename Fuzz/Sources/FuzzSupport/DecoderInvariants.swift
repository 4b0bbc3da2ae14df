import DeviceProtocols
import FloorgateCore

/// The properties every decoder must keep on any input, checked on each input libFuzzer makes:
///
/// 1. no trap (the sanitizer and Swift's own checks catch one);
/// 2. every byte accounted: the raw bytes of all events are exactly the input;
/// 3. read sizes do not matter: the same input fed in input-derived chunks gives the same events;
/// 4. idle-gap flushes between reads may regroup errors but never lose or duplicate a byte.
///
/// A violation stops the fuzzer with a message; libFuzzer saves the input as a crash artifact.
public func checkDecoderInvariants(protocolID: String, data: UnsafePointer<UInt8>, size: Int) -> Int32 {
    guard let entry = ProtocolCatalog.entry(id: protocolID) else {
        preconditionFailure("no protocol '\(protocolID)' in the catalog")
    }
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    var whole = entry.makeDecoder()
    let reference = whole.feed(input) + whole.finish()
    if protocolID == "open-protocol" {
        // Session frames are consumed without events: account through the framer's output.
        var framer = OpenProtocolFramer()
        let outputs = input.withUnsafeBytes { framer.feed($0) } + framer.finish()
        let framed = outputs.flatMap { output -> RawBytes in
            switch output {
            case .frame(let frame): frame.raw
            case .skipped(_, let raw): raw
            }
        }
        precondition(framed == input, "open-protocol: the framer's output is not the input")
    } else {
        precondition(reference.flatMap(\.raw) == input, "\(protocolID): the events' raw bytes are not the input")
    }

    var chunked = entry.makeDecoder()
    var chunkedEvents: [DeviceEvent] = []
    var flushed = entry.makeDecoder()
    var flushedEvents: [DeviceEvent] = []
    var start = 0
    var step = Int(input.first ?? 0) % 5 + 1
    while start < input.count {
        let end = min(input.count, start + step)
        chunkedEvents += chunked.feed(input[start..<end])
        flushedEvents += flushed.feed(input[start..<end])
        if input[end - 1] & 0x03 == 0 { flushedEvents += flushed.flush() }
        start = end
        step = (step * 7 + 3) % 13 + 1
    }
    chunkedEvents += chunked.finish()
    flushedEvents += flushed.finish()
    precondition(chunkedEvents == reference, "\(protocolID): events depend on read sizes")
    if protocolID != "open-protocol" {
        precondition(flushedEvents.flatMap(\.raw) == input, "\(protocolID): a flush lost or duplicated bytes")
    }
    return 0
}
