import FuzzSupport

/// libFuzzer entry point for the `torque-ascii` decoder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    checkDecoderInvariants(protocolID: "torque-ascii", data: data, size: size)
}
