public import Glibc

/// Why a device node could not be opened or configured. Every case names the node, so a log
/// line or an error on the console says which device and what to do.
public struct DeviceOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The node does not exist (unplugged, or a wrong path).
        case missing
        /// The user may not open it (not in the `floorgate` group, or the udev rule did not apply).
        case permissionDenied
        /// Another program holds it exclusively (TIOCEXCL), or it is busy.
        case busy
        /// The node is not a terminal (a tty path that names something else).
        case notATerminal
        /// A configuration call failed.
        case configuration(call: String, errno: Int32)
        /// Any other failure of `open`.
        case openFailed(errno: Int32)
        /// The node is not a USB device node (`/dev/bus/usb/BBB/DDD`, or a link to one).
        case notAUSBDevice
        /// The USB device lacks what the profile names (an interface, an endpoint), or libusb
        /// refused a call; `detail` says which.
        case usb(detail: String)
    }

    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// The reason `open(2)` failed with `code`.
    static func reason(forOpenErrno code: Int32) -> Reason {
        switch code {
        case ENOENT, ENODEV, ENXIO: .missing
        case EACCES, EPERM: .permissionDenied
        case EBUSY: .busy
        default: .openFailed(errno: code)
        }
    }

    public var description: String {
        switch reason {
        case .missing: "\(path): no such device (unplugged, or a wrong path)"
        case .permissionDenied: "\(path): permission denied (is this user in the device's group? see udev/README.md)"
        case .busy: "\(path): busy (another program holds the port exclusively)"
        case .notATerminal: "\(path): not a serial port (not a terminal device)"
        case .configuration(let call, let code): "\(path): \(call) failed: \(String(cString: strerror(code)))"
        case .openFailed(let code): "\(path): cannot open: \(String(cString: strerror(code)))"
        case .notAUSBDevice: "\(path): not a USB device node (/dev/bus/usb/BBB/DDD)"
        case .usb(let detail): "\(path): \(detail)"
        }
    }
}

/// Opening a serial port: raw mode, the profile's line settings, exclusive use.
///
/// The port is opened non-blocking and without becoming the controlling terminal, put in raw
/// mode (no echo, no line editing, no translation of CR or LF, no signals), given the baud rate,
/// character size, parity, stop bits and flow control of `settings`, and marked exclusive
/// (TIOCEXCL) so that no second program (another gateway, a terminal emulator left open) reads
/// half of the device's frames. Bytes the device sent before the open are kept, not flushed.
public enum SerialPort {
    /// Opens and configures the tty at `path`; returns the descriptor, which the caller owns.
    public static func open(path: String, settings: SerialSettings) throws(DeviceOpenError) -> Int32 {
        let descriptor = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw DeviceOpenError(path: path, reason: DeviceOpenError.reason(forOpenErrno: errno)) }
        do throws(DeviceOpenError) {
            guard isatty(descriptor) == 1 else { throw DeviceOpenError(path: path, reason: .notATerminal) }
            try configure(descriptor, path: path, settings: settings)
            guard ioctl(descriptor, UInt(TIOCEXCL)) == 0 else {
                throw DeviceOpenError(path: path, reason: .configuration(call: "TIOCEXCL", errno: errno))
            }
            return descriptor
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// The termios settings for `settings`, applied and read back.
    static func configure(_ descriptor: Int32, path: String, settings: SerialSettings) throws(DeviceOpenError) {
        var attributes = termios()
        guard tcgetattr(descriptor, &attributes) == 0 else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "tcgetattr", errno: errno))
        }
        apply(settings, to: &attributes)
        guard let speed = baudConstant(settings.baud) else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "baud \(settings.baud)", errno: EINVAL))
        }
        guard cfsetispeed(&attributes, speed) == 0, cfsetospeed(&attributes, speed) == 0 else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "cfsetspeed", errno: errno))
        }
        guard tcsetattr(descriptor, TCSANOW, &attributes) == 0 else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "tcsetattr", errno: errno))
        }
        // tcsetattr succeeds when any one change took: read back what the driver kept.
        var applied = termios()
        guard tcgetattr(descriptor, &applied) == 0 else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "tcgetattr", errno: errno))
        }
        let keptCharacterBits = applied.c_cflag & characterBits == attributes.c_cflag & characterBits
        guard cfgetispeed(&applied) == speed, keptCharacterBits || isPseudoTerminal(descriptor) else {
            throw DeviceOpenError(path: path, reason: .configuration(call: "tcsetattr (\(settings.summary) not accepted by the driver)", errno: EINVAL))
        }
    }

    /// Whether `descriptor` is the slave end of a pseudo-terminal (Unix98 pty majors 136–143).
    /// A pty has no line: the kernel keeps CS8 without parity whatever is asked, so there the
    /// character size and parity cannot be read back (a simulator does not need them).
    private static func isPseudoTerminal(_ descriptor: Int32) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        let device = UInt64(status.st_rdev)
        let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF)  // glibc's gnu_dev_major
        return (136...143).contains(major)
    }

    /// The c_cflag bits that carry character size, parity and stop bits.
    private static let characterBits = tcflag_t(CSIZE | PARENB | PARODD | CSTOPB)

    /// glibc's CRTSCTS (bit 31), which Swift does not import from the header's octal literal.
    static let hardwareFlowControl = tcflag_t(0x8000_0000)

    /// Raw mode plus the line settings; the speed is set separately. Pure: tested on its own,
    /// since a pseudo-terminal does not keep character size and parity.
    public static func apply(_ settings: SerialSettings, to attributes: inout termios) {
        cfmakeraw(&attributes)
        attributes.c_cflag |= tcflag_t(CLOCAL | CREAD)
        attributes.c_cflag &= ~(characterBits | hardwareFlowControl)
        attributes.c_cflag |= tcflag_t(settings.dataBits == 7 ? CS7 : CS8)
        switch settings.parity {
        case .none: break
        case .even: attributes.c_cflag |= tcflag_t(PARENB)
        case .odd: attributes.c_cflag |= tcflag_t(PARENB | PARODD)
        }
        if settings.stopBits == 2 { attributes.c_cflag |= tcflag_t(CSTOPB) }
        attributes.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        switch settings.flowControl {
        case .none: break
        case .rtsCts: attributes.c_cflag |= hardwareFlowControl
        case .xonXoff: attributes.c_iflag |= tcflag_t(IXON | IXOFF)
        }
        // A read returns as soon as one byte is there; framing is the decoder's job.
        withUnsafeMutableBytes(of: &attributes.c_cc) { controls in
            controls[Int(VMIN)] = 1
            controls[Int(VTIME)] = 0
        }
    }

    /// The termios constant of a baud rate `SerialSettings.baudRates` allows.
    static func baudConstant(_ baud: Int) -> speed_t? {
        switch baud {
        case 1200: speed_t(B1200)
        case 2400: speed_t(B2400)
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115200: speed_t(B115200)
        default: nil
        }
    }
}
