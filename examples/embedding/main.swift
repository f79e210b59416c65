// Embedding Sentinel in a service: wrap calls in a pipeline, run the
// Sentinel in the service's ServiceGroup next to the HTTP server.
//
// This example has no HTTP server (it would add Hummingbird to the build);
// `callBackend` stands for what a request handler does. With Hummingbird,
// add `app` to the same ServiceGroup and call `checkout.execute` in a route.
//
//   swift run embedding-example policies
import Logging
import Resilience
import Sentinel
import ServiceLifecycle

/// A stand-in for the service's own traffic: calls the backend through the
/// pipeline every 10 ms until shutdown.
struct TrafficService: Service {
    let checkout: Pipeline

    func run() async throws {
        var iteration = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            iteration += 1
            let failing = iteration % 10 == 0
            let request = iteration
            _ = try? await checkout.execute { () async throws -> Int in
                try await Task.sleep(for: .milliseconds(2))
                if failing { throw BackendError() }
                return request
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

struct BackendError: Error {}

@main
struct EmbeddingExample {
    static func main() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "example")
        let folder = CommandLine.arguments.dropFirst().first ?? "policies"

        // 1. Pipelines register their knobs in a registry.
        let registry = ParameterRegistry()
        let checkout = try Pipeline("checkout", registry: registry) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            CircuitBreaker()
            Bulkhead(maxConcurrent: 64)
        }

        // 2. The control plane is the one door through which knobs change.
        let plane = ControlPlane(registry: registry)

        // 3. The Sentinel evaluates the scripts in `folder` and hot-reloads them.
        let sentinel = Sentinel(
            plane: plane, configuration: .init(folders: [folder], stateFile: nil), logger: logger)

        // 4. One ServiceGroup: SIGTERM/SIGINT finish the running evaluation, flush, exit 0.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: TrafficService(checkout: checkout)), .init(service: sentinel)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
