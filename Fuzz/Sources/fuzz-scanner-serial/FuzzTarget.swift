import FuzzSupport

/// libFuzzer entry point for the `scanner-serial` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "scanner-serial", data: data, size: size)
}
