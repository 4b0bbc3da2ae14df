import FuzzSupport

/// libFuzzer entry point for the `hid-pos` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "hid-pos", data: data, size: size)
}
