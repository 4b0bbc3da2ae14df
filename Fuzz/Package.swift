// swift-tools-version: 6.1
// libFuzzer targets for Floorgate's decoders, one per protocol, for scanned-content parsing, for the JSON reader and
// for the record's request handling. A package of its own so that plain
// `swift build` / `swift test` at the root never builds them. Build and run with `make fuzz`:
//   swift build -c release --sanitize=fuzzer --product fuzz-mitutoyo

import PackageDescription

let protocols = [
    "mitutoyo", "uwave", "sylvac", "digimatic", "torque-ascii", "open-protocol", "scanner-serial", "hid-keyboard", "hid-pos",
]

let package = Package(
    name: "FloorgateFuzz",
    products: (protocols + ["json", "barcode", "record"]).map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [
        .package(name: "floorgate", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "DeviceProtocols", package: "floorgate"),
                .product(name: "FloorgateCore", package: "floorgate"),
            ]
        ),
        // The wire protocols' JSON reader (the record socket reads untrusted lines with it).
        // Scanned content: GS1, ISO/IEC 15434, HIBC (`floorgate barcode parse`).
        .executableTarget(
            name: "fuzz-barcode",
            dependencies: [.product(name: "Barcodes", package: "floorgate")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // The record's request handling: lines into a record server on a file in memory.
        .executableTarget(
            name: "fuzz-record",
            dependencies: [
                .product(name: "WorkRecord", package: "floorgate"),
                .product(name: "RecordProtocol", package: "floorgate"),
                .product(name: "FloorgateCore", package: "floorgate"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "fuzz-json",
            dependencies: [.product(name: "FloorgateCore", package: "floorgate")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ] + protocols.map {
        .executableTarget(
            name: "fuzz-\($0)",
            dependencies: ["FuzzSupport"],
            // libFuzzer supplies main(); the target only defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
