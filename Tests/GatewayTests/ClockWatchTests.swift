import Gateway
import HostClock
import Logging
import Synchronization
import Testing

@Suite("The clock's synchronization, watched", .timeLimit(.minutes(1)))
struct ClockWatchTests {
    @Test("each change is reported, the first reading only when the clock is not synchronized")
    func reportsChanges() async {
        let readings: [ClockSynchronization] = [.synchronized, .synchronized, .unsynchronized, .unsynchronized, .synchronized, .synchronized]
        let next = Mutex(0)
        let reported = Mutex<[ClockSynchronization]>([])
        let watch = ClockWatch(interval: .milliseconds(5)) {
            next.withLock { index in
                defer { index += 1 }
                return readings[min(index, readings.count - 1)]
            }
        }
        let watching = Task { await watch.run(logger: Logger(label: "clock-test")) { state in reported.withLock { $0.append(state) } } }
        while next.withLock({ $0 }) < readings.count + 2 { try? await Task.sleep(for: .milliseconds(5)) }
        watching.cancel()
        await watching.value
        #expect(reported.withLock { $0 } == [.unsynchronized, .synchronized])
    }

    @Test("a clock not synchronized from the start is reported at once")
    func reportsAtStart() async {
        let reported = Mutex<[ClockSynchronization]>([])
        let watch = ClockWatch(interval: .seconds(60)) { .unsynchronized }
        let watching = Task { await watch.run(logger: Logger(label: "clock-test")) { state in reported.withLock { $0.append(state) } } }
        while reported.withLock({ $0.isEmpty }) { try? await Task.sleep(for: .milliseconds(5)) }
        watching.cancel()
        await watching.value
        #expect(reported.withLock { $0 } == [.unsynchronized])
    }
}
