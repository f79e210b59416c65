import AsyncHTTPClient
import Benchmark
import NIOCore
import NIOHTTP1
import NIOPosix
import Resilience
import SentinelHTTPClient

// The client wrapper's own cost per request: the same loopback server (a
// bare SwiftNIO HTTP/1.1 server answering 200 "ok") is called with
// AsyncHTTPClient directly and through `PipelineHTTPClient`, over the same
// kept-alive connection, in the same run; the difference is what the wrapper
// and its pipeline add. See docs/http.md.

/// Answers every request with 200 and a two-byte body.
private final class OKResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "2")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// The loopback server, bound once for the process (it exits with it).
private let server: any Channel = {
    do {
        return try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OKResponder())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    } catch {
        fatalError("benchmark server: \(error)")
    }
}()

private let serverURL = "http://127.0.0.1:\(server.localAddress?.port ?? 0)"

private let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)

private let clientRegistry = ParameterRegistry()

/// Retry, breaker, bulkhead and cooperative timeout, optionally a split.
private func clientPipeline(_ name: String, split: Bool) -> Pipeline {
    do {
        return try Pipeline(name, registry: clientRegistry, seed: 1) {
            Retry(maxAttempts: 3, baseDelay: .milliseconds(10))
            CircuitBreaker(failureRate: 0.5, minimumCalls: 20)
            Bulkhead(maxConcurrent: 1000)
            Timeout(.seconds(10), mode: .cooperative)
            if split { TrafficSplit([("canary", 10), ("stable", 90)]) }
        }
    } catch {
        fatalError("benchmark pipeline \(name): \(error)")
    }
}

private let wrapped: PipelineHTTPClient = {
    do {
        return try PipelineHTTPClient(pipeline: clientPipeline("client", split: false), httpClient: httpClient, upstream: serverURL)
    } catch {
        fatalError("benchmark client: \(error)")
    }
}()

private let wrappedEmpty: PipelineHTTPClient = {
    do {
        let pipeline = try Pipeline("client-empty", registry: clientRegistry, seed: 1) {}
        return try PipelineHTTPClient(pipeline: pipeline, httpClient: httpClient, upstream: serverURL)
    } catch {
        fatalError("benchmark client: \(error)")
    }
}()

private let wrappedSplit: PipelineHTTPClient = {
    do {
        return try PipelineHTTPClient(
            pipeline: clientPipeline("client-split", split: true), httpClient: httpClient,
            upstreams: ["stable": serverURL, "canary": serverURL],
            configuration: .init(attemptTimeout: .seconds(5)))
    } catch {
        fatalError("benchmark client: \(error)")
    }
}()

let clientBenchmarks: @Sendable () -> Void = {
    // One request per sample: each is tens of microseconds on loopback.
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 200,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 20_000)

    Benchmark("http client: bare AsyncHTTPClient GET, loopback", configuration: configuration) { benchmark in
        let request = HTTPClientRequest(url: serverURL + "/items/42")
        for _ in benchmark.scaledIterations {
            let response = try await httpClient.execute(request, deadline: .distantFuture)
            blackHole(try await response.body.collect(upTo: 1024))
        }
    }
    Benchmark("http client: PipelineHTTPClient, no policies, loopback", configuration: configuration) { benchmark in
        let request = HTTPClientRequest(url: "/items/42")
        for _ in benchmark.scaledIterations {
            let response = try await wrappedEmpty.execute(request)
            blackHole(try await response.body.collect(upTo: 1024))
        }
    }
    Benchmark("http client: PipelineHTTPClient, 4 policies, loopback", configuration: configuration) { benchmark in
        let request = HTTPClientRequest(url: "/items/42")
        for _ in benchmark.scaledIterations {
            let response = try await wrapped.execute(request)
            blackHole(try await response.body.collect(upTo: 1024))
        }
    }
    Benchmark(
        "http client: PipelineHTTPClient, 4 policies + keyed split + attempt timeout, loopback",
        configuration: configuration
    ) { benchmark in
        let request = HTTPClientRequest(url: "/items/42")
        for _ in benchmark.scaledIterations {
            let response = try await wrappedSplit.execute(request, key: "user-42")
            blackHole(try await response.body.collect(upTo: 1024))
        }
    }
}
