#define _GNU_SOURCE
#include "CDeviceShims.h"

#include <errno.h>
#include <linux/hidraw.h>
#include <linux/input.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timex.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int floorgate_open_pseudo_terminal(char *path, size_t path_size) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, path, path_size) != 0) {
        int saved = errno;
        close(master);
        errno = saved;
        return -1;
    }
    return master;
}

int floorgate_hidraw_report_descriptor(int fd, unsigned char *buffer, int capacity) {
    int size = 0;
    if (ioctl(fd, HIDIOCGRDESCSIZE, &size) < 0) return -1;
    struct hidraw_report_descriptor descriptor;
    memset(&descriptor, 0, sizeof descriptor);
    descriptor.size = (unsigned int)size;
    if (ioctl(fd, HIDIOCGRDESC, &descriptor) < 0) return -1;
    int length = size < capacity ? size : capacity;
    memcpy(buffer, descriptor.value, (size_t)length);
    return length;
}

int floorgate_hidraw_info(int fd, unsigned int *bustype, unsigned int *vendor, unsigned int *product) {
    struct hidraw_devinfo info;
    if (ioctl(fd, HIDIOCGRAWINFO, &info) < 0) return -1;
    *bustype = info.bustype;
    *vendor = (unsigned short)info.vendor;
    *product = (unsigned short)info.product;
    return 0;
}

int floorgate_hidraw_name(int fd, char *buffer, int capacity) {
    if (capacity <= 0) { errno = EINVAL; return -1; }
    int length = ioctl(fd, HIDIOCGRAWNAME(capacity), buffer);
    if (length < 0) return -1;
    buffer[capacity - 1] = 0;
    return (int)strlen(buffer);
}

int floorgate_evdev_grab(int fd, int grab) {
    return ioctl(fd, EVIOCGRAB, grab);
}

int floorgate_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int floorgate_clock_synchronized(void) {
    struct timex state;
    memset(&state, 0, sizeof state);  // modes 0: read only
    int result = adjtimex(&state);
    if (result == -1) return -1;
    return (result != TIME_ERROR && !(state.status & STA_UNSYNC)) ? 1 : 0;
}
