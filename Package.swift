// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Sentinel",
    products: [
        .library(name: "ScriptHost", targets: ["ScriptHost"]),
        .library(name: "Resilience", targets: ["Resilience"]),
        .library(name: "Sentinel", targets: ["Sentinel"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "SentinelAdmin", targets: ["SentinelAdmin"]),
        .library(name: "SentinelHummingbird", targets: ["SentinelHummingbird"]),
        .library(name: "SentinelTracing", targets: ["SentinelTracing"]),
        .library(name: "SentinelHTTPClient", targets: ["SentinelHTTPClient"]),
        .library(name: "SentinelFleet", targets: ["SentinelFleet"]),
        .executable(name: "sentinel", targets: ["SentinelCommand"]),
        .executable(name: "scripthost-demo", targets: ["ScriptHostDemo"]),
        .executable(name: "embedding-example", targets: ["EmbeddingExample"]),
        .executable(name: "checkout-service", targets: ["CheckoutService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // The admin API and the operator commands: kept out of the core products.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // Fleet mode: kept out of the core products.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Lua 5.4 from the system (Debian: liblua5.4-dev).
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // The C half of ScriptHost: everything that may raise a Lua error.
        .target(
            name: "CScriptHost",
            dependencies: ["CLua"]
        ),
        .target(
            name: "ScriptHost",
            dependencies: ["CLua", "CScriptHost"]
        ),
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [
                "Sentinel", "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "examples/embedding"
        ),
        // A real service: Hummingbird, an inventory over HTTP, the Sentinel and its admin API (examples/checkout-service).
        .executableTarget(
            name: "CheckoutService",
            dependencies: [
                "Sentinel", "Resilience", "SentinelAdmin", "SentinelHummingbird", "SentinelHTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "examples/checkout-service/Sources/CheckoutService"
        ),
        .executableTarget(
            name: "ScriptHostDemo",
            dependencies: ["ScriptHost"],
            path: "examples/scripthost-demo"
        ),
        // The data plane: tunable knobs, policies, pipelines, windowed outcomes.
        .target(
            name: "Resilience"
        ),
        .testTarget(
            name: "ResilienceTests",
            dependencies: ["Resilience"]
        ),
        // Shadow trials: judge shadow against live, promote atomically, watch, roll back.
        .target(
            name: "ShadowEval",
            dependencies: ["Resilience"]
        ),
        .testTarget(
            name: "ShadowEvalTests",
            dependencies: ["ShadowEval", "Resilience"]
        ),
        // Observer, control plane, audit, persistence, and the meta-policy engine.
        .target(
            name: "Sentinel",
            dependencies: [
                "ScriptHost",
                "Resilience",
                "ShadowEval",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Scenarios on virtual time: the real pipelines, control plane and scripts, simulated backends.
        .target(
            name: "Simulation",
            dependencies: [
                "Sentinel", "Resilience",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: [
                "Simulation", "Sentinel", "Resilience",
                .product(name: "Logging", package: "swift-log"),
                // Checks the report's Content-Security-Policy hashes.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The admin HTTP API, Prometheus metrics, webhook notifications: a product of its own, so embedding the core links no HTTP server or client.
        .target(
            name: "SentinelAdmin",
            dependencies: [
                "Sentinel", "Resilience",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The dashboard's files, compiled into the binary: nothing to install beside it.
            resources: [
                .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/dashboard.css"),
                .embedInCode("Dashboard/dashboard.js"), .embedInCode("Dashboard/favicon.svg"),
            ]
        ),
        .testTarget(
            name: "SentinelAdminTests",
            dependencies: [
                "SentinelAdmin", "Sentinel", "Resilience",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        // Pipelines around a Hummingbird server's routes: a product of its own, so the core links no HTTP server.
        .target(
            name: "SentinelHummingbird",
            dependencies: [
                "Resilience",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "SentinelHummingbirdTests",
            dependencies: [
                "SentinelHummingbird", "Resilience",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Spans for pipeline calls and the sentinel's decisions: a product of its own, so the core links no tracing.
        .target(
            name: "SentinelTracing",
            dependencies: [
                "Resilience", "Sentinel",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "SentinelTracingTests",
            dependencies: [
                "SentinelTracing", "Resilience", "Sentinel",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // AsyncHTTPClient requests through a pipeline: a product of its own, so the core links no HTTP client.
        .target(
            name: "SentinelHTTPClient",
            dependencies: [
                "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SentinelHTTPClientTests",
            dependencies: [
                "SentinelHTTPClient", "Resilience",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Fleet mode: one leader and one desired state for every instance, on PostgreSQL. A product of its own,
        // so a single-process user links no database driver.
        .target(
            name: "SentinelFleet",
            dependencies: [
                "Sentinel", "Resilience",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SentinelFleetTests",
            dependencies: [
                "SentinelFleet", "Sentinel", "Resilience",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `sentinel` command: check, simulate, run, and the operator commands.
        .executableTarget(
            name: "SentinelCommand",
            dependencies: [
                "Sentinel", "Simulation", "Resilience", "SentinelAdmin", "SentinelFleet",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SentinelTests",
            dependencies: [
                "Sentinel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // Seeded mutation fuzzing of every parser and the corpus of past crashers (`make fuzz` runs more).
        .testTarget(
            name: "FuzzTests",
            dependencies: [
                "Sentinel", "Simulation", "Resilience",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: []
        ),
        .testTarget(
            name: "ScriptHostTests",
            dependencies: ["ScriptHost", "CLua", "CScriptHost"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
