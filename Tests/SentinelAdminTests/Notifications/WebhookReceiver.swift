import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Resilience
import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// A webhook receiver on 127.0.0.1 for the tests: records every request,
/// answers with scripted statuses (200 once the script is used up), and can
/// hold requests unanswered until released.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        /// Lowercased names.
        var headers: [String: String]
        var body: String
        var json: JSONValue { (try? JSONValue(json: body)) ?? .null }
    }

    private struct State {
        var statuses: [Int] = []
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())
    private let portBox = Locked(0)
    /// Every request so far, in arrival order.
    let requests = Observed<[Received]>([])
    /// Requests waiting unanswered now.
    let heldCount = Observed(0)

    /// The port it listens on.
    var port: Int { portBox.withLock { $0 } }

    /// `http://127.0.0.1:PORT` + `path`.
    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Requests so far, in arrival order.
    var received: [Received] { requests.value }

    /// The statuses of the next answers, in order.
    func answer(_ statuses: Int...) { state.withLock { $0.statuses.append(contentsOf: statuses) } }

    /// Requests from now on wait unanswered until ``release()``.
    func hold() { state.withLock { $0.holding = true } }

    /// Answers every held request and stops holding.
    func release() {
        let held = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.holding = false
            defer {
                state.held.removeAll()
                heldCount.update { $0 = 0 }
            }
            return state.held
        }
        for request in held { request.resume() }
    }

    /// Waits (at most `timeout`) until `count` requests have arrived.
    @discardableResult
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        try await requests.wait("\(count) requests at the receiver", timeout: timeout) { $0.count >= count }
    }

    private func arrived(_ request: Received) async -> Int {
        let (status, hold) = state.withLock { state -> (Int, Bool) in
            let status = state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
            return (status, state.holding)
        }
        if hold {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let stillHolding = state.withLock { state -> Bool in
                    guard state.holding else { return false }
                    state.held.append(continuation)
                    heldCount.update { $0 = state.held.count }
                    return true
                }
                if stillHolding {
                    requests.update { $0.append(request) }
                } else {
                    requests.update { $0.append(request) }
                    continuation.resume()
                }
            }
        } else {
            requests.update { $0.append(request) }
        }
        return status
    }

    /// Runs a receiver on 127.0.0.1 (`port` 0: a free one) while `body` runs, then stops it.
    static func with<T: Sendable>(
        port: Int = 0, paths: [String] = ["/hook"], _ body: (WebhookReceiver) async throws -> T
    ) async throws -> T {
        let receiver = WebhookReceiver()
        let router = Router()
        for path in paths {
            router.post(RouterPath(path)) { request, _ -> Response in
                var request = request
                let bytes = try await request.collectBody(upTo: 1 << 20)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                let status = await receiver.arrived(
                    Received(path: request.uri.path, headers: headers, body: String(buffer: bytes)))
                return Response(status: HTTPResponse.Status(code: status))
            }
        }
        let (listening, ready) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                ready.yield(channel.localAddress?.port ?? 0)
                ready.finish()
            },
            logger: Logger(label: "receiver") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { ready.finish() }
                try await app.run()
            }
            var iterator = listening.makeAsyncIterator()
            // Returns once the server listens (or at once with nil when it failed and the stream ended).
            guard let bound = await iterator.next(), bound > 0 else { throw ReceiverError("the receiver did not start") }
            receiver.portBox.withLock { $0 = bound }
            defer {
                receiver.release()
                group.cancelAll()
            }
            return try await body(receiver)
        }
    }

    /// A loopback port nothing listens on: bound, read, closed.
    static func closedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ReceiverError("socket failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ReceiverError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw ReceiverError("getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct ReceiverError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
