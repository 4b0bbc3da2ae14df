import FuzzSupport

/// libFuzzer entry point for the `mitutoyo` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "mitutoyo", data: data, size: size)
}
