import Foundation
import Hummingbird
import Logging
import Resilience
import SentinelHummingbird

// The server `wrk_compare.py` drives (docs/performance.md, "Under wrk on loopback"):
// one Hummingbird 2 application on 127.0.0.1 with the same handler on a bare route
// and behind `PipelineMiddleware`, so that the difference wrk sees between the
// routes is what the middleware adds to a request served over a socket.
//
//   /bare            the handler alone
//   /guarded         the handler behind the 4-policy pipeline, default configuration
//                    (rate-limit fields on refusals only): the HTTPBenchmarks "quiet" route
//   /guarded-fields  the same with the rate-limit fields on every response
//
// Usage: HTTPLoadServer [--port N]   (0, the default: a free port)
// Prints `ready http://127.0.0.1:PORT` once it accepts connections; stops on SIGINT or SIGTERM.

/// Rate limiter, breaker, bulkhead and cooperative timeout, as in HTTPBenchmarks: the limiter's
/// 10 million requests/s (and burst) never refuses on loopback, the bulkhead's 1,000 never fills
/// (wrk holds at most a few dozen connections), no call fails, so the breaker stays closed.
func fourPolicies(_ name: String, registry: ParameterRegistry) throws -> Pipeline {
    try Pipeline(name, registry: registry, seed: 1) {
        RateLimit(rate: 1e7, algorithm: .tokenBucket(burst: 1e7))
        CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
        Bulkhead(maxConcurrent: 1000)
        Timeout(.seconds(10), mode: .cooperative)
    }
}

func port(from arguments: [String]) -> Int {
    var port = 0
    var rest = arguments.dropFirst()
    while let argument = rest.popFirst() {
        switch argument {
        case "--port":
            guard let value = rest.popFirst().flatMap({ Int($0) }), (0...65535).contains(value) else {
                fail("--port needs a number from 0 to 65535")
            }
            port = value
        case "-h", "--help":
            print("usage: HTTPLoadServer [--port N]   serves /bare, /guarded and /guarded-fields on 127.0.0.1")
            exit(0)
        default:
            fail("unknown argument \(argument) (usage: HTTPLoadServer [--port N])")
        }
    }
    return port
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("HTTPLoadServer: \(message)\n".utf8))
    exit(2)
}

/// Serves the three routes on 127.0.0.1:`requestedPort` until SIGINT or SIGTERM.
func serve(port requestedPort: Int) async throws {
    let registry = ParameterRegistry()
    let guarded = try PipelineMiddleware<BasicPipelineRequestContext>(pipeline: try fourPolicies("guarded", registry: registry))
    let guardedWithFields = try PipelineMiddleware<BasicPipelineRequestContext>(
        pipeline: try fourPolicies("guarded-fields", registry: registry), configuration: .init(rateLimitFields: .everyResponse))

    // The handler of every route: 200 with a 3-byte body.
    let body = ByteBuffer(string: "ok\n")
    let handler: @Sendable (Request, BasicPipelineRequestContext) async throws -> Response = { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: body))
    }
    let router = Router(context: BasicPipelineRequestContext.self)
    router.get("bare", use: handler)
    router.group("guarded").add(middleware: guarded).get(use: handler)
    router.group("guarded-fields").add(middleware: guardedWithFields).get(use: handler)

    var logger = Logger(label: "HTTPLoadServer")
    logger.logLevel = .warning
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: "HTTPLoadServer"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? requestedPort
            FileHandle.standardOutput.write(Data("ready http://127.0.0.1:\(port)\n".utf8))
        },
        logger: logger
    )
    try await app.runService()
}

do {
    try await serve(port: port(from: CommandLine.arguments))
} catch {
    fail("\(error)")
}
