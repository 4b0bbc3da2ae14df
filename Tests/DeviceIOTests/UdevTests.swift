import DeviceIO
import Foundation
import Testing

@Suite("udev discovery and monitor", .timeLimit(.minutes(2)), .serialized)
struct UdevTests {
    @Test("enumeration finds the tty subsystem's nodes with their properties (ptmx is on every Linux)")
    func enumeration() throws {
        let devices = try Udev.devices(subsystems: ["tty"])
        let ptmx = try #require(devices.first { $0.node == "/dev/ptmx" })
        #expect(ptmx.subsystem == "tty")
        #expect(ptmx.syspath == "/sys/devices/virtual/tty/ptmx")
        #expect(ptmx.properties["SUBSYSTEM"] == "tty")
        #expect(ptmx.isVirtual && ptmx.usb == nil)
        #expect(try Udev.device(node: "/dev/ptmx")?.syspath == ptmx.syspath)
        #expect(try Udev.device(node: "/dev/floorgate-test-missing") == nil)
    }

    @Test("the monitor delivers a uevent for real: `change` written to ptmx's uevent file")
    func monitorSeesChange() async throws {
        let trigger = "/sys/devices/virtual/tty/ptmx/uevent"
        guard access(trigger, W_OK) == 0 else {
            print("udev monitor: skipped (writing \(trigger) needs root)")
            return
        }
        let monitor = try UdevMonitor(subsystems: ["tty"], source: .kernel)
        defer { monitor.stop() }
        let received = Task { () -> DeviceChange? in
            for await change in monitor.changes where change.device.syspath == "/sys/devices/virtual/tty/ptmx" {
                return change
            }
            return nil
        }
        // Nudge every 100 ms until the event is seen; after 5 s, stopping the monitor ends the wait.
        let writer = Task {
            for _ in 0..<50 where !Task.isCancelled {
                try? "change".write(toFile: trigger, atomically: false, encoding: .utf8)
                try? await Task.sleep(for: .milliseconds(100))
            }
            monitor.stop()
        }
        let change = await received.value
        writer.cancel()
        #expect(change?.action == "change")
        #expect(change?.device.subsystem == "tty")
    }

    @Test("a stopped monitor ends its stream")
    func stopEnds() async throws {
        let monitor = try UdevMonitor(subsystems: ["tty"], source: .kernel)
        monitor.stop()
        var count = 0
        for await _ in monitor.changes { count += 1 }
        #expect(count == 0)
    }
}
