// Calls of the C library and the kernel that Swift cannot reach directly: functions glibc
// declares only under feature macros, and ioctl request numbers built by function-like macros.
#ifndef FLOORGATE_CDEVICESHIMS_H
#define FLOORGATE_CDEVICESHIMS_H

#include <stddef.h>

/// Opens a pseudo-terminal master (O_RDWR | O_NOCTTY | O_CLOEXEC), grants and unlocks its
/// slave and writes the slave's path into `path`. Returns the master's descriptor, or -1 with
/// errno set.
int floorgate_open_pseudo_terminal(char *path, size_t path_size);

#endif
