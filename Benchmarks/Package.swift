// swift-tools-version: 6.1
// Floorgate's benchmarks (ordo-one/benchmark). A package of its own so that plain `swift build`
// never builds them. Run with `make bench`, which writes BENCHMARKS.md.

import PackageDescription

let package = Package(
    name: "FloorgateBenchmarks",
    dependencies: [
        .package(name: "floorgate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Decoding",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DeviceProtocols", package: "floorgate"),
                .product(name: "FloorgateCore", package: "floorgate"),
            ],
            path: "Benchmarks/Decoding",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        // GS1 parse + validation per element string, timed beside biip by scripts/bench-gs1.py (outside
        // Benchmarks/, where the benchmark plugin would run it as one of its own).
        .executableTarget(
            name: "gs1-throughput",
            dependencies: [.product(name: "Barcodes", package: "floorgate")],
            path: "Tools/GS1Throughput"
        ),
    ]
)
