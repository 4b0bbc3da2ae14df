import ArgumentParser
import Gateway
import Logging

/// The `floorgate` command: every operation a technician, engineer or auditor needs.
struct Floorgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floorgate",
        abstract: "Shop-floor device gateway: gauges, torque tools and scanners into the work-order record.",
        discussion: """
            Floorgate reads what the devices on a bench send (calipers, micrometers, indicators, \
            torque meters, barcode scanners), turns each reading into an exact measurement and \
            records it against the work order, serial and instruction revision being built.

            Start here:
              floorgate decode --list                       protocols Floorgate decodes
              floorgate decode --protocol mitutoyo --unit mm < capture.bin
                                                            what a device's bytes mean, one JSON line per event
              floorgate demo                                a whole station with simulated devices
              floorgate devices                             what is plugged in, its profile, whether it can be opened
              floorgate gateway --config station.toml       run a station (docs/station.md)
              floorgate status                              how the running gateway is doing
              floorgate simulate open-protocol --port 4545  a tightening controller to practise on
              floorgate collect open-protocol --controller 127.0.0.1:4545 --database results.sqlite
                                                            a controller's results, stored before acknowledged
              floorgate record serve --db record.sqlite --socket /tmp/record.sock
                                                            the work-order record on a Unix socket
              floorgate dhr SN-0001 --format html --output SN-0001.html
                                                            a unit's device history record
              floorgate verify --db record.sqlite           check the record against its audit chain
              floorgate trace --device CAL-0042             every result a gauge gave (a calibration failure's impact)
              floorgate trace --lot B-7731                  every unit a component lot went into

            Exit codes: 0 success; 1 the operation failed (device, record, data); 2 bad usage or \
            bad configuration; 3 the record's audit chain does not verify.
            """,
        version: FloorgateVersion.current,
        subcommands: [
            DecodeCommand.self, BarcodeCommand.self, SimulateCommand.self, CollectCommand.self, RecordCommand.self, BuildCommand.self, DHRCommand.self,
            VerifyCommand.self, AuditCommand.self, SPCCommand.self, TraceCommand.self, ProfilesCommand.self, GatewayCommand.self, StatusCommand.self, DemoCommand.self, DevicesCommand.self, UdevRuleCommand.self,
        ]
    )
}

/// Runs the command line with Floorgate's exit codes: 2 for bad usage (ArgumentParser would use
/// 64), the command's own code for failures, 0 for help.
@main
enum FloorgateMain {
    static func main() async {
        LoggingSystem.bootstrap { FloorgateLogHandler(label: $0) }
        do {
            var command = try Floorgate.parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Floorgate.exit(withError: exit)
        } catch let failure as CommandFailure {
            StandardError.write("floorgate: \(failure.message)\n")
            Floorgate.exit(withError: ExitCode(failure.exitCode))
        } catch {
            let code = Floorgate.exitCode(for: error)
            if code == .success {
                Floorgate.exit(withError: error)
            }
            StandardError.write(Floorgate.fullMessage(for: error) + "\n")
            // ArgumentParser says "validation failure" for parse and validation errors: bad usage.
            // Anything else is an operation that failed.
            let usage = code == .validationFailure
            Floorgate.exit(withError: ExitCode(usage ? FloorgateExit.badUsage : FloorgateExit.operationFailed))
        }
    }
}
