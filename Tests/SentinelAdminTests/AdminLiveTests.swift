import Foundation
import Logging
import Resilience
import Sentinel
import ServiceLifecycle
import Testing

@testable import SentinelAdmin

#if canImport(Glibc)
import Glibc
#endif

/// The admin API on a real loopback socket: the event stream delivers what
/// happens as it happens, and a graceful shutdown ends it. Every wait is
/// bounded (a 10 s receive timeout).
@Suite(.serialized) struct AdminLiveTests {
    /// Runs the fixture's admin service on a loopback port (`configure` may
    /// change its configuration) and calls `body` with it, its port and its
    /// group; `body` shuts the group down, and this waits until it has.
    func serving(
        _ fixture: AdminFixture, configure: (inout AdminConfiguration) -> Void = { _ in },
        _ body: (AdminService, Int, ServiceGroup) async throws -> Void
    ) async throws {
        let listening = AsyncStream<String>.makeStream()
        var configuration = AdminConfiguration(
            address: AdminAddress(host: "127.0.0.1", port: 0), tokensFile: fixture.folder + "/tokens.yaml")
        configure(&configuration)
        let admin = try AdminService(
            subject: AdminSubject(runtime: fixture.runtime, instance: "live"), configuration: configuration,
            logger: .silent, onListening: { listening.continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [admin], logger: .silent))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var urls = listening.stream.makeAsyncIterator()
            let url = try #require(await urls.next())
            #expect(url.hasPrefix("http://127.0.0.1:"))
            let port = try #require(Int(url.split(separator: ":").last ?? ""))
            try await body(admin, port, group)
            try await tasks.waitForAll()
        }
    }

    /// A connection that asked for the event stream with `token`.
    func stream(port: Int, token: String) throws -> LoopbackConnection {
        let connection = try LoopbackConnection(port: port)
        try connection.send("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return connection
    }

    @Test func theEventStreamDeliversAuditEntriesLiveAndEndsOnShutdown() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await serving(fixture) { _, port, group in
            let connection = try stream(port: port, token: AdminFixture.aliceToken)
            let head = try await connection.read(until: ": keepalive")
            #expect(head.contains("200 OK") && head.contains("text/event-stream"))
            #expect(head.lowercased().contains("cache-control: no-store"))
            _ = await fixture.plane.execute(
                "automation.freeze", [:], context: CommandContext(identity: .operator("bob"), reason: "live event"))
            let event = try await connection.read(until: "live event")
            #expect(event.contains("event: audit") && event.contains("\"actor\":\"operator:bob\""))
            await group.triggerGracefulShutdown()
            _ = try await connection.readToEnd()
        }
    }

    @Test func aStreamEndsOnceItsTokenIsRevoked() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await serving(fixture, configure: { $0.limits.keepalive = .milliseconds(100) }) { admin, port, group in
            let viewer = try stream(port: port, token: AdminFixture.viewerToken)
            let alice = try stream(port: port, token: AdminFixture.aliceToken)
            #expect(try await viewer.read(until: ": keepalive").contains("200 OK"))
            #expect(try await alice.read(until: ": keepalive").contains("200 OK"))

            try AdminFixture.writeTokens(to: fixture.folder + "/tokens.yaml", [("alice", AdminFixture.aliceToken)])
            #expect(admin.tokens.reload())
            // The revoked reader's stream ends (the last chunk of the response); alice's goes on.
            _ = try await viewer.read(until: "\r\n0\r\n\r\n")
            _ = await fixture.plane.execute(
                "automation.freeze", [:], context: CommandContext(identity: .operator("bob"), reason: "after the revocation"))
            #expect(try await alice.read(until: "after the revocation").contains("event: audit"))
            await group.triggerGracefulShutdown()
        }
    }

    @Test func aStreamWithoutAValidTokenIsRefused() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.get("/v1/events", token: "nope")
            #expect(response.status == .unauthorized)
        }
    }
}

/// A plain TCP connection to 127.0.0.1 with a 10 s receive timeout: enough
/// to read an event stream line by line in a test. The blocking reads run on
/// a thread of their own, never on the concurrency pool that the server and
/// the other tests share (two threads on a 2-core machine).
final class LoopbackConnection: @unchecked Sendable {
    let socket: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw AdminConfigurationError("connect: errno \(errno)") }
    }

    deinit { close(socket) }

    func send(_ text: String) throws {
        let sent = text.withCString { Glibc.send(socket, $0, strlen($0), 0) }
        guard sent > 0 else { throw AdminConfigurationError("send: errno \(errno)") }
    }

    /// Reads until `marker` has arrived (or the 10 s timeout, which throws); returns what was read.
    func read(until marker: String) async throws -> String {
        try await offThePool { try self.readBlocking(until: marker) }
    }

    /// Reads until the server closes the connection (or the timeout).
    func readToEnd() async throws -> String {
        try await offThePool {
            while try self.fill() > 0 {}
            return String(decoding: self.buffer, as: UTF8.self)
        }
    }

    private func offThePool(_ body: @escaping @Sendable () throws -> String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Gives up after 10 s in all, even while bytes keep coming (keepalives).
    private func readBlocking(until marker: String) throws -> String {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            if ContinuousClock.now > deadline { throw AdminConfigurationError("no \(marker.debugDescription) within 10 s") }
            let text = String(decoding: buffer, as: UTF8.self)
            if let range = text.range(of: marker) {
                let consumed = text[..<range.upperBound].utf8.count
                buffer.removeFirst(consumed)
                return String(text[..<range.upperBound])
            }
            guard try fill() > 0 else { throw AdminConfigurationError("the stream ended before \(marker)") }
        }
    }

    private func fill() throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &chunk, chunk.count, 0)
        guard count >= 0 else { throw AdminConfigurationError("recv: errno \(errno) (a 10 s timeout?)") }
        buffer += chunk[..<count]
        return count
    }
}
