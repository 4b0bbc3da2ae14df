// libudev, found through pkg-config (Debian: libudev-dev).
#include <libudev.h>
