// Calls of the C library and the kernel that Swift cannot reach directly: functions glibc
// declares only under feature macros, and ioctl request numbers built by function-like macros.
#ifndef FLOORGATE_CDEVICESHIMS_H
#define FLOORGATE_CDEVICESHIMS_H

#include <spawn.h>
#include <stddef.h>

/// Opens a pseudo-terminal master (O_RDWR | O_NOCTTY | O_CLOEXEC), grants and unlocks its
/// slave and writes the slave's path into `path`. Returns the master's descriptor, or -1 with
/// errno set.
int floorgate_open_pseudo_terminal(char *path, size_t path_size);

/// HIDIOCGRDESCSIZE + HIDIOCGRDESC: copies the hidraw node's report descriptor into `buffer`
/// (up to `capacity` bytes). Returns its length, or -1 with errno set.
int floorgate_hidraw_report_descriptor(int fd, unsigned char *buffer, int capacity);

/// HIDIOCGRAWINFO: the bus type and the USB vendor and product ids. Returns 0, or -1 with errno.
int floorgate_hidraw_info(int fd, unsigned int *bustype, unsigned int *vendor, unsigned int *product);

/// HIDIOCGRAWNAME: the device's name, NUL-terminated. Returns its length, or -1 with errno.
int floorgate_hidraw_name(int fd, char *buffer, int capacity);

/// EVIOCGRAB on an evdev node: 1 takes the device for this descriptor alone (its key presses
/// reach no one else), 0 gives it back. Returns 0, or -1 with errno.
int floorgate_evdev_grab(int fd, int grab);

/// posix_spawn_file_actions_addclosefrom_np: the spawned program starts with no descriptor at
/// or above `from` (glibc declares it only with _GNU_SOURCE). Returns 0, or an error number.
int floorgate_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// adjtimex(2) read without changing anything (no privilege needed): 1 when the kernel's clock
/// is synchronized to a time source, 0 when it is not (STA_UNSYNC set, or TIME_ERROR), -1 with
/// errno when the call fails.
int floorgate_clock_synchronized(void);

#endif
