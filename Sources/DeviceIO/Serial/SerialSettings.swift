/// Serial line settings (termios): the device's own, fixed by its manual or menu.
public struct SerialSettings: Sendable, Hashable {
    public enum Parity: String, Sendable, Hashable, CaseIterable { case none, even, odd }
    public enum FlowControl: String, Sendable, Hashable, CaseIterable {
        case none
        case rtsCts = "rts-cts"
        case xonXoff = "xon-xoff"
    }

    /// The rates termios offers that bench devices use.
    public static let baudRates = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]

    public var baud: Int
    public var dataBits: Int
    public var parity: Parity
    public var stopBits: Int
    public var flowControl: FlowControl

    public init(baud: Int, dataBits: Int, parity: Parity, stopBits: Int, flowControl: FlowControl) {
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
        self.flowControl = flowControl
    }

    /// `9600 8N1`-style text.
    public var summary: String {
        "\(baud) \(dataBits)\(parity.rawValue.prefix(1).uppercased())\(stopBits)" + (flowControl == .none ? "" : " " + flowControl.rawValue)
    }
}
