import FuzzSupport

/// libFuzzer entry point for the `open-protocol` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "open-protocol", data: data, size: size)
}
