// swift-tools-version: 6.1
// Floorgate: shop-floor device gateway and work-order record.
// Module layout and dependency rules: docs/design.md.

import PackageDescription

/// Settings every Swift target shares: Swift 6 mode is the package default; these upcoming
/// features keep imports honest and existentials explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "floorgate",
    products: [
        .executable(name: "floorgate", targets: ["floorgate"]),
        .library(name: "FloorgateCore", targets: ["FloorgateCore"]),
        .library(name: "DeviceProtocols", targets: ["DeviceProtocols"]),
        .library(name: "Barcodes", targets: ["Barcodes"]),
        // For the fuzz package (Fuzz/): the record's request handling is fuzzed through them.
        .library(name: "RecordProtocol", targets: ["RecordProtocol"]),
        .library(name: "WorkRecord", targets: ["WorkRecord"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The operator's station page; no default traits (swift-configuration is not needed).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The plant-wide record's store.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Metrics: counted through swift-metrics, served in Prometheus's format.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CUdev",
            pkgConfig: "libudev",
            providers: [.apt(["libudev-dev"])]
        ),
        .systemLibrary(
            name: "CLibUSB",
            pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]
        ),
        // The few C calls Swift cannot import (feature-macro functions, macro-built ioctls).
        .target(name: "CDeviceShims"),
        // Whether the host's clock is synchronized (adjtimex): the gateway shows it, the record
        // may refuse signatures without it.
        .target(
            name: "HostClock",
            dependencies: ["CDeviceShims"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FloorgateCore",
            swiftSettings: strictSettings
        ),
        .target(
            name: "DeviceProtocols",
            dependencies: ["FloorgateCore"],
            swiftSettings: strictSettings
        ),
        // Scanned content: GS1 element strings, ISO/IEC 15434, HIBC. Pure: no I/O.
        .target(
            name: "Barcodes",
            dependencies: ["FloorgateCore"],
            swiftSettings: strictSettings
        ),
        // A throwaway PostgreSQL cluster on this machine: the plant demo's record and the tests'.
        .target(
            name: "LocalPostgres",
            dependencies: ["CDeviceShims"],
            swiftSettings: strictSettings
        ),
        // SQLite statements prepared by GRDB, bound and stepped through SQLite's C interface: the
        // gateway's outbox writer and the record's SQLite writer.
        .target(
            name: "SQLiteStatements",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // The record protocol: method names, error codes, the line framing and the one client.
        .target(
            name: "RecordProtocol",
            dependencies: [
                "FloorgateCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "DeviceIO",
            dependencies: [
                "FloorgateCore",
                "DeviceProtocols",
                "CDeviceShims",
                "CUdev",
                "CLibUSB",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "FloorgateCore",
                "DeviceProtocols",
                "Barcodes",
                "DeviceIO",
                "HostClock",
                "RecordProtocol",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "SQLiteStatements",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSettings
        ),
        // /metrics in Prometheus's format, on a listener of its own, for the gateway and the record.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The operator's station page: server-rendered HTML and one live event stream, served from
        // the gateway process.
        .target(
            name: "StationPage",
            dependencies: [
                "FloorgateCore",
                "DeviceIO",
                "Gateway",
                "RecordProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WorkRecord",
            dependencies: [
                "Barcodes",
                "FloorgateCore",
                "HostClock",
                "RecordProtocol",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "SQLiteStatements",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "floorgate",
            dependencies: [
                "FloorgateCore",
                "DeviceProtocols",
                "Barcodes",
                "DeviceIO",
                "Gateway",
                "StationPage",
                "WorkRecord",
                "RecordProtocol",
                "LocalPostgres",
                "MetricsEndpoint",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FixtureSupport",
            dependencies: [
                "FloorgateCore", "DeviceProtocols", "DeviceIO", "RecordProtocol", "LocalPostgres",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/FixtureSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FloorgateCoreTests",
            dependencies: [
                "FloorgateCore",
                "FixtureSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeviceProtocolsTests",
            dependencies: ["FloorgateCore", "DeviceProtocols", "FixtureSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BarcodesTests",
            dependencies: ["FloorgateCore", "Barcodes", "FixtureSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DeviceIOTests",
            dependencies: [
                "FloorgateCore",
                "DeviceProtocols",
                "DeviceIO",
                "FixtureSupport",
                "CUdev",
                "CLibUSB",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RecordProtocolTests",
            dependencies: [
                "FloorgateCore", "RecordProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                // The station page's tests run a whole station, so they live here with its harness.
                "FloorgateCore", "DeviceProtocols", "DeviceIO", "Gateway", "HostClock", "StationPage", "WorkRecord", "RecordProtocol", "FixtureSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WorkRecordTests",
            dependencies: [
                "FloorgateCore", "HostClock", "WorkRecord", "RecordProtocol", "FixtureSupport", "LocalPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "floorgateTests",
            dependencies: [
                "floorgate", "FixtureSupport", "FloorgateCore", "DeviceProtocols", "DeviceIO", "WorkRecord", "RecordProtocol", "LocalPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The insider attack suite signs forged audit entries with a key of its own.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
