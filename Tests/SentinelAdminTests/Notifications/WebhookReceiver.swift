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
/// answers with scripted statuses and headers (200 once the script is used
/// up), can hold requests unanswered until released, and can answer with a
/// head whose body then stalls or breaks off.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        /// Lowercased names.
        var headers: [String: String]
        var body: String
        var json: JSONValue { (try? JSONValue(json: body)) ?? .null }
    }

    /// What the body of an answer does after its head.
    enum BodyMode: Sendable {
        /// Empty, complete.
        case complete
        /// A few bytes, then nothing until released (then the connection breaks).
        case stall
        /// A few bytes, then the connection breaks.
        case breakOff
    }

    private struct Scripted {
        var status: Int
        var headers: [String: String] = [:]
    }

    private struct State {
        var answers: [Scripted] = []
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
        var bodies = BodyMode.complete
        var stalled: [CheckedContinuation<Void, Never>] = []
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
    func answer(_ statuses: Int...) { state.withLock { $0.answers.append(contentsOf: statuses.map { Scripted(status: $0) }) } }

    /// The next answer: `status` with `headers`.
    func answer(_ status: Int, headers: [String: String]) {
        state.withLock { $0.answers.append(Scripted(status: status, headers: headers)) }
    }

    /// What the bodies of answers from now on do.
    func bodies(_ mode: BodyMode) { state.withLock { $0.bodies = mode } }

    /// Requests from now on wait unanswered until ``release()``.
    func hold() { state.withLock { $0.holding = true } }

    /// Answers every held request and stops holding.
    func release() {
        let held = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.holding = false
            state.bodies = .complete
            defer {
                state.held.removeAll()
                state.stalled.removeAll()
                heldCount.update { $0 = 0 }
            }
            return state.held + state.stalled
        }
        for request in held { request.resume() }
    }

    /// Waits (at most `timeout`) until `count` requests have arrived.
    @discardableResult
    func waitForRequests(_ count: Int, timeout: Duration = .seconds(60)) async throws -> [Received] {
        try await requests.wait("\(count) requests at the receiver", timeout: timeout) { $0.count >= count }
    }

    /// Waits until ``release()`` (at once when it ran already).
    private func stall() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stalling = state.withLock { state -> Bool in
                guard state.bodies == .stall else { return false }
                state.stalled.append(continuation)
                return true
            }
            if !stalling { continuation.resume() }
        }
    }

    private func arrived(_ request: Received) async -> (Scripted, BodyMode) {
        let (answer, hold, bodies) = state.withLock { state -> (Scripted, Bool, BodyMode) in
            let answer = state.answers.isEmpty ? Scripted(status: 200) : state.answers.removeFirst()
            return (answer, state.holding, state.bodies)
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
        return (answer, bodies)
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
                let (answer, bodies) = await receiver.arrived(
                    Received(path: request.uri.path, headers: headers, body: String(buffer: bytes)))
                var fields = HTTPFields()
                for (name, value) in answer.headers {
                    if let name = HTTPField.Name(name) { fields[name] = value }
                }
                let status = HTTPResponse.Status(code: answer.status)
                switch bodies {
                case .complete:
                    return Response(status: status, headers: fields)
                case .stall, .breakOff:
                    return Response(
                        status: status, headers: fields,
                        body: ResponseBody { writer in
                            try await writer.write(ByteBuffer(string: "partial"))
                            if bodies == .stall { await receiver.stall() }
                            throw ReceiverError("the body breaks off")
                        })
                }
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

    /// Runs a receiver on `reserved`'s port while `body` runs: it binds
    /// beside the reservation (both reuse the address), then the reservation
    /// is closed, so the port is never free for another test to take.
    static func with<T: Sendable>(
        taking reserved: ReservedPort, _ body: (WebhookReceiver) async throws -> T
    ) async throws -> T {
        try await with(port: reserved.port) { receiver in
            reserved.close()
            return try await body(receiver)
        }
    }
}

/// A loopback port that refuses connections: a socket bound to it (with
/// SO_REUSEADDR, as the receiver's) that never listens, held until
/// ``close()``. Nothing else can take the port meanwhile, and a receiver can
/// bind beside it (``WebhookReceiver/with(taking:_:)``).
final class ReservedPort: Sendable {
    let port: Int
    private let descriptor: Locked<Int32?>

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ReceiverError("socket failed") }
        var keep = false
        defer { if !keep { Glibc.close(descriptor) } }
        var one: Int32 = 1
        guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw ReceiverError("setsockopt failed")
        }
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
        port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = Locked(descriptor)
        keep = true
    }

    /// Gives the port up (once).
    func close() {
        if let descriptor = descriptor.withLock({ state -> Int32? in
            defer { state = nil }
            return state
        }) {
            Glibc.close(descriptor)
        }
    }

    deinit { close() }
}

struct ReceiverError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
