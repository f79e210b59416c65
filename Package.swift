// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Sentinel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ScriptHost", targets: ["ScriptHost"]),
        // The raw Lua C API, for baselines in Benchmarks/.
        .library(name: "CLua", targets: ["CLua"]),
        .library(name: "Resilience", targets: ["Resilience"]),
        .executable(name: "scripthost-demo", targets: ["ScriptHostDemo"]),
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
        .testTarget(
            name: "ScriptHostTests",
            dependencies: ["ScriptHost", "CLua", "CScriptHost"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
