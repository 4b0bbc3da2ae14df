// libusb-1.0, found through pkg-config (Debian: libusb-1.0-0-dev).
#include <libusb.h>
