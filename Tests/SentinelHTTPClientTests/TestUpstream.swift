import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Resilience

#if canImport(Glibc)
import Glibc
#endif

/// An upstream on 127.0.0.1 for the tests: answers with scripted statuses,
/// header fields and bodies (then 200 with its name as the body), records
/// every request (with the client's port, which tells connections apart), and
/// can hold a request unanswered until ``release()``.
final class TestUpstream: Sendable {
    /// One scripted answer.
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        var body = ""
        /// Wait for ``release()`` before answering.
        var held = false
    }

    /// A request as the upstream saw it.
    struct Received: Sendable {
        var method: String
        var path: String
        var body: String
        var clientPort: Int
    }

    private struct State {
        var answers: [Answer] = []
        var received: [Received] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var released = false
        var held: [CheckedContinuation<Void, Never>] = []
    }

    /// What the default answer's body says.
    let name: String
    private let state = Locked(State())
    private let portBox = Locked(0)

    init(name: String) { self.name = name }

    /// The port it listens on.
    var port: Int { portBox.withLock { $0 } }
    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(port)" }
    /// Requests so far, in arrival order.
    var received: [Received] { state.withLock { $0.received } }

    /// The next answers, in order.
    func answer(_ answers: Answer...) { state.withLock { $0.answers += answers } }

    /// Answers every held request, and every later one at once.
    func release() {
        let held = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released = true
            defer { state.held.removeAll() }
            return state.held
        }
        for request in held { request.resume() }
    }

    /// Waits until `count` requests have arrived.
    func waitForRequests(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.received.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func arrived(_ request: Received) async -> Answer {
        let (answer, ready) = state.withLock { state -> (Answer, [CheckedContinuation<Void, Never>]) in
            let answer = state.answers.isEmpty ? Answer(status: 200, body: name) : state.answers.removeFirst()
            state.received.append(request)
            let count = state.received.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return (answer, ready)
        }
        for waiter in ready { waiter.resume() }
        if answer.held {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let hold = state.withLock { state -> Bool in
                    if state.released { return false }
                    state.held.append(continuation)
                    return true
                }
                if !hold { continuation.resume() }
            }
        }
        return answer
    }

    /// Runs upstreams named `names` on 127.0.0.1 while `body` runs, then stops them.
    static func with<T: Sendable>(
        _ names: [String] = ["upstream"], _ body: @Sendable ([TestUpstream]) async throws -> T
    ) async throws -> T {
        let upstreams = names.map(TestUpstream.init(name:))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for upstream in upstreams {
                let (listening, ready) = AsyncStream<Int>.makeStream()
                let app = upstream.application { port in
                    ready.yield(port)
                    ready.finish()
                }
                group.addTask {
                    defer { ready.finish() }
                    try await app.run()
                }
                var iterator = listening.makeAsyncIterator()
                guard let port = await iterator.next(), port > 0 else { throw TestFailure("\(upstream.name) did not start") }
                upstream.portBox.withLock { $0 = port }
            }
            defer {
                for upstream in upstreams { upstream.release() }
                group.cancelAll()
            }
            return try await body(upstreams)
        }
    }

    private func application(listening: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router(context: UpstreamContext.self)
        router.on("**", method: .get) { request, context in try await self.respond(request, context) }
        router.on("**", method: .put) { request, context in try await self.respond(request, context) }
        router.on("**", method: .post) { request, context in try await self.respond(request, context) }
        return Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in listening(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-upstream") { _ in SwiftLogNoOpLogHandler() })
    }

    private func respond(_ request: Request, _ context: UpstreamContext) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: 1 << 20)
        let answer = await arrived(
            Received(
                method: request.method.rawValue, path: request.uri.description, body: String(buffer: bytes),
                clientPort: context.clientPort))
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

/// A request context that knows the client's port.
struct UpstreamContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let clientPort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientPort = source.channel.remoteAddress?.port ?? 0
    }
}

/// A loopback port that refuses connections: a socket bound to it that never
/// listens, held until the value is released.
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw TestFailure("bind failed")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A client for the tests: it fails a refused connection at once (no retries of its own).
func makeHTTPClient() -> HTTPClient {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}

/// Runs `body` with a test client, and shuts the client down after it.
func withHTTPClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = makeHTTPClient()
    do {
        let value = try await body(client)
        try await client.shutdown()
        return value
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// A pipeline on a manual clock, in its own registry.
func manualPipeline(
    _ name: String = "inventory", @PolicyBuilder policies: () -> [PipelineComponent]
) throws -> (Pipeline, ManualClock) {
    let clock = ManualClock()
    let pipeline = try Pipeline(
        name, registry: ParameterRegistry(), time: ClockTimeSource(clock), seed: 7, policies: policies)
    return (pipeline, clock)
}

extension HTTPClientResponse {
    /// The body as a string (at most 1 MiB).
    func text() async throws -> String {
        String(buffer: try await body.collect(upTo: 1 << 20))
    }
}
