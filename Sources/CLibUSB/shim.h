// libusb-1.0, found through pkg-config (Debian: libusb-1.0-0-dev).
#include <libusb.h>

/// libusb_init for a context that only works on device nodes Floorgate opens itself
/// (libusb_wrap_sys_device): no scan of the bus and no hotplug thread, since udev finds the
/// devices. libusb_set_option is variadic, which Swift cannot call.
static inline int floorgate_libusb_init_for_wrapped_devices(libusb_context **context) {
    libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
    return libusb_init(context);
}
