// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SentinelBenchmarks",
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "Sentinel", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Lua 5.4 from the system, bare: the baseline ScriptHost is measured against.
        .systemLibrary(name: "RawLua", path: "RawLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .executableTarget(
            name: "ScriptHostBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ScriptHost", package: "Sentinel"),
                "RawLua",
            ],
            path: "ScriptHostBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ResilienceBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Resilience", package: "Sentinel"),
            ],
            path: "ResilienceBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SentinelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Resilience", package: "Sentinel"),
                .product(name: "Sentinel", package: "Sentinel"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "SentinelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Resilience", package: "Sentinel"),
                .product(name: "Simulation", package: "Sentinel"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "SimulationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "HTTPBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Resilience", package: "Sentinel"),
                .product(name: "SentinelHummingbird", package: "Sentinel"),
                .product(name: "SentinelHTTPClient", package: "Sentinel"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "HTTPBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The server `make http-load` drives with wrk on loopback (HTTPLoad/wrk_compare.py).
        .executableTarget(
            name: "HTTPLoadServer",
            dependencies: [
                .product(name: "Resilience", package: "Sentinel"),
                .product(name: "SentinelHummingbird", package: "Sentinel"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "HTTPLoad",
            exclude: ["wrk_compare.py"]
        ),
        .executableTarget(
            name: "TracingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Resilience", package: "Sentinel"),
                .product(name: "SentinelTracing", package: "Sentinel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            path: "TracingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
