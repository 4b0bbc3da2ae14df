import FuzzSupport

/// libFuzzer entry point for the `sylvac` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "sylvac", data: data, size: size)
}
