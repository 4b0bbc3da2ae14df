import FuzzSupport

/// libFuzzer entry point for the `digimatic` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "digimatic", data: data, size: size)
}
