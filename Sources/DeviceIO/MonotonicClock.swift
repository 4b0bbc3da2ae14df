import Glibc

/// The monotonic clock, in nanoseconds, as the outbox records read and commit times, so any
/// harness on the same machine can measure a reading's latency from outside the process.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
