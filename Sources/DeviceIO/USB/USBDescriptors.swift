/// A USB device's descriptors as the device sent them: what reading its usbfs node
/// (`/dev/bus/usb/BBB/DDD`) or sysfs `descriptors` file returns, the 18-byte device descriptor
/// followed by each configuration's descriptors. Parsing is pure: bytes in, values out.
///
/// udev exposes a device's ids and each interface's class, but not its endpoints; this is what a
/// vendor-class interface is read by.
public struct USBDescriptors: Sendable, Hashable {
    public var vendorID: UInt16
    public var productID: UInt16
    /// `bDeviceClass` (0: each interface says its own).
    public var deviceClass: UInt8
    public var configurations: [USBConfiguration]

    /// Parses `bytes`; throws on a descriptor whose length runs past the end or is too short for
    /// its type. Descriptors of types it does not use (HID, class-specific, SuperSpeed companion)
    /// are stepped over by their length.
    public init(parsing bytes: some Collection<UInt8>) throws(USBDescriptorError) {
        let bytes = Array(bytes)
        guard bytes.count >= 18, bytes[0] >= 18, bytes[1] == DescriptorType.device else {
            throw USBDescriptorError(offset: 0, problem: .notADeviceDescriptor)
        }
        vendorID = UInt16(bytes[8]) | UInt16(bytes[9]) << 8
        productID = UInt16(bytes[10]) | UInt16(bytes[11]) << 8
        deviceClass = bytes[4]
        configurations = []
        var offset = Int(bytes[0])
        while offset < bytes.count {
            let length = Int(bytes[offset])
            guard length >= 2 else { throw USBDescriptorError(offset: offset, problem: .lengthTooShort(length)) }
            guard offset + length <= bytes.count else { throw USBDescriptorError(offset: offset, problem: .truncated) }
            let descriptor = bytes[offset..<offset + length]
            try add(descriptor, at: offset)
            offset += length
        }
    }

    private mutating func add(_ descriptor: ArraySlice<UInt8>, at offset: Int) throws(USBDescriptorError) {
        let start = descriptor.startIndex
        func need(_ minimum: Int) throws(USBDescriptorError) {
            guard descriptor.count >= minimum else { throw USBDescriptorError(offset: offset, problem: .lengthTooShort(descriptor.count)) }
        }
        switch descriptor[start + 1] {
        case DescriptorType.configuration:
            try need(9)
            configurations.append(USBConfiguration(value: descriptor[start + 5], interfaces: []))
        case DescriptorType.interface:
            try need(9)
            guard !configurations.isEmpty else { throw USBDescriptorError(offset: offset, problem: .outsideConfiguration) }
            configurations[configurations.count - 1].interfaces.append(USBInterface(
                number: descriptor[start + 2], alternateSetting: descriptor[start + 3],
                interfaceClass: descriptor[start + 5], interfaceSubclass: descriptor[start + 6],
                interfaceProtocol: descriptor[start + 7], endpoints: []))
        case DescriptorType.endpoint:
            try need(7)
            let last = configurations.count - 1
            guard last >= 0, let interface = configurations[last].interfaces.indices.last else {
                throw USBDescriptorError(offset: offset, problem: .outsideConfiguration)
            }
            configurations[last].interfaces[interface].endpoints.append(USBEndpoint(
                address: descriptor[start + 2],
                transfer: USBEndpoint.Transfer(rawValue: descriptor[start + 3] & 0x03) ?? .control,
                maxPacketSize: Self.bytesPerInterval(UInt16(descriptor[start + 4]) | UInt16(descriptor[start + 5]) << 8)))
        default:
            break
        }
    }

    /// `wMaxPacketSize`: bits 0–10 the packet size, bits 11–12 the extra packets a high-speed,
    /// high-bandwidth endpoint sends per microframe.
    static func bytesPerInterval(_ field: UInt16) -> Int {
        Int(field & 0x7ff) * (1 + Int(field >> 11 & 0x3))
    }

    /// Interface `number` (its first alternate setting) in the configuration whose value is
    /// `configuration`, or in the first configuration when that is nil.
    public func interface(_ number: UInt8, configuration: UInt8? = nil) -> USBInterface? {
        let chosen = configuration.flatMap { value in configurations.first { $0.value == value } } ?? configurations.first
        return chosen?.interfaces.first { $0.number == number }
    }

    private enum DescriptorType {
        static let device: UInt8 = 1
        static let configuration: UInt8 = 2
        static let interface: UInt8 = 4
        static let endpoint: UInt8 = 5
    }
}

/// One configuration: its `bConfigurationValue` and interfaces (each alternate setting listed).
public struct USBConfiguration: Sendable, Hashable {
    public var value: UInt8
    public var interfaces: [USBInterface]
}

/// One interface (alternate setting) and its endpoints.
public struct USBInterface: Sendable, Hashable {
    public var number: UInt8
    public var alternateSetting: UInt8
    /// `0xff` is vendor class: no kernel driver knows it, libusb reads it.
    public var interfaceClass: UInt8
    public var interfaceSubclass: UInt8
    public var interfaceProtocol: UInt8
    public var endpoints: [USBEndpoint]

    /// The endpoint a device's data is read from: `address` when given (and an IN endpoint of
    /// this interface), else the first interrupt or bulk IN endpoint.
    public func inputEndpoint(_ address: UInt8? = nil) -> USBEndpoint? {
        endpoints.first { $0.isInput && $0.carriesData && (address == nil || $0.address == address) }
    }

    /// The first interrupt or bulk OUT endpoint, where a poll command is written.
    public var outputEndpoint: USBEndpoint? { endpoints.first { !$0.isInput && $0.carriesData } }

    /// `bInterfaceClass` in words, for listings and errors.
    public var className: String {
        switch interfaceClass {
        case 0x02: "communications"
        case 0x03: "HID"
        case 0x08: "mass storage"
        case 0x09: "hub"
        case 0x0a: "CDC data"
        case 0xff: "vendor"
        default: "class " + hex(interfaceClass)
        }
    }
}

/// One endpoint: its address (bit 7 set for IN), transfer type and largest packet.
public struct USBEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Transfer: UInt8, Sendable, Hashable {
        case control = 0, isochronous = 1, bulk = 2, interrupt = 3
    }

    public var address: UInt8
    public var transfer: Transfer
    /// The most it moves at once: the packet size, times the packets per microframe of a
    /// high-bandwidth endpoint.
    public var maxPacketSize: Int

    public init(address: UInt8, transfer: Transfer, maxPacketSize: Int) {
        self.address = address
        self.transfer = transfer
        self.maxPacketSize = maxPacketSize
    }

    public var isInput: Bool { address & 0x80 != 0 }
    /// Bulk and interrupt endpoints are those a device's data comes and goes by.
    public var carriesData: Bool { transfer == .bulk || transfer == .interrupt }

    /// `0x81 interrupt IN, 8 bytes`.
    public var description: String {
        "\(hex(address)) \(transfer) \(isInput ? "IN" : "OUT"), \(maxPacketSize) bytes"
    }
}

/// Why a device's descriptors could not be read.
public struct USBDescriptorError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        case notADeviceDescriptor
        case lengthTooShort(Int)
        case truncated
        case outsideConfiguration
    }

    /// Where in the bytes the bad descriptor starts.
    public var offset: Int
    public var problem: Problem

    public init(offset: Int, problem: Problem) {
        self.offset = offset
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .notADeviceDescriptor: "USB descriptors: the first 18 bytes are not a device descriptor"
        case .lengthTooShort(let length): "USB descriptors: the descriptor at byte \(offset) is too short (\(length) bytes)"
        case .truncated: "USB descriptors: the descriptor at byte \(offset) runs past the end"
        case .outsideConfiguration: "USB descriptors: an interface or endpoint at byte \(offset) comes before its configuration"
        }
    }
}

/// `0x81`.
func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return "0x" + (digits.count < 2 ? "0" + digits : digits)
}
