import Crypto
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Resilience
import Sentinel

@testable import SentinelAdmin

#if canImport(Glibc)
import Glibc
#endif

extension Logger {
    static let silent = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}

/// A sentinel with one pipeline on a manual clock, a tokens file, and the
/// admin API's router over them (tested without a socket).
struct AdminFixture {
    static let aliceToken = "alice-token-0123456789abcdef"
    static let viewerToken = "viewer-token-fedcba9876543210"

    let registry = ParameterRegistry()
    let clock = ManualClock()
    let pipeline: Pipeline
    let runtime: SentinelRuntime
    let folder: String
    let service: AdminService

    var plane: ControlPlane { runtime.plane }

    init(configuration: ControlPlaneConfiguration = .init(), metricsPublic: Bool = false) throws {
        let time = ClockTimeSource(clock)
        pipeline = try Pipeline("checkout", registry: registry, time: time, seed: 1) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            TrafficSplit([("stable", 100), ("canary", 0)])
        }
        let plane = ControlPlane(registry: registry, time: time, epoch: 1_800_000_000)
        plane.configure(configuration)
        runtime = SentinelRuntime(plane: plane, logger: .silent)
        var template = Array("/tmp/sentinel-admin-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw AdminConfigurationError("mkdtemp") }
        folder = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = made
        try Self.writeTokens(to: folder + "/tokens.yaml", [("alice", Self.aliceToken), ("viewer", Self.viewerToken)])
        service = try AdminService(
            subject: AdminSubject(runtime: runtime, instance: "test-1"),
            configuration: AdminConfiguration(
                address: AdminAddress(host: "127.0.0.1", port: 0), tokensFile: folder + "/tokens.yaml",
                metricsPublic: metricsPublic),
            logger: .silent)
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
    }

    static func writeTokens(to path: String, _ tokens: [(String, String)]) throws {
        var text = "tokens:\n"
        for (id, token) in tokens { text += "  - { id: \(id), sha256: \(hash(token)) }\n" }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw AdminConfigurationError("cannot write \(path)") }
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
    }

    func cleanUp() {
        unlink(folder + "/tokens.yaml")
        rmdir(folder)
    }

    /// Runs `body` against the router, in process.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = Application(router: service.makeRouter(), logger: .silent)
        return try await app.test(.router, body)
    }
}

extension TestClientProtocol {
    func get(_ uri: String, token: String? = AdminFixture.aliceToken) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .get, headers: headers)
    }

    func post(
        _ uri: String, _ body: String, token: String? = AdminFixture.aliceToken, contentType: String = "application/json"
    )
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    /// The body as a JSON value.
    var json: JSONValue {
        (try? JSONValue(json: String(buffer: body))) ?? .null
    }

    var errorCode: String? { json["error"]["code"].stringValue }
}
