import FuzzSupport

/// libFuzzer entry point for the `uwave` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "uwave", data: data, size: size)
}
