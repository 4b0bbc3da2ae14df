import CLibUSB
import CUdev
import Testing

/// Proof that the native libraries are found through pkg-config and linked: each test calls in.
@Suite("Native libraries", .timeLimit(.minutes(1)))
struct SystemLibraryTests {
    @Test("libudev: a context can be created and released")
    func libudevLinks() throws {
        let context = try #require(udev_new())
        #expect(udev_unref(context) == nil)
    }

    @Test("libusb-1.0: a context initialises, and reports its version")
    func libusbLinks() throws {
        var context: OpaquePointer?
        let status = libusb_init(&context)
        #expect(status == 0, "libusb_init: \(String(cString: libusb_error_name(status)))")
        if status == 0 { libusb_exit(context) }
        let version = try #require(libusb_get_version())
        #expect(version.pointee.major == 1)
    }
}
