import FuzzSupport

/// libFuzzer entry point for the `hid-keyboard` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "hid-keyboard", data: data, size: size)
}
