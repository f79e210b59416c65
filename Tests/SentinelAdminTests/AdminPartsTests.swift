import Resilience
import Sentinel
import Testing

@testable import SentinelAdmin

/// The pieces behind the routes: addresses, tokens, throttling, the event frames.
@Suite struct AdminPartsTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464, true), ("[::1]:0", "::1", 0, true), ("localhost:80", "localhost", 80, true),
        ("0.0.0.0:9464", "0.0.0.0", 9464, false), ("admin.internal:443", "admin.internal", 443, false),
    ])
    func addressesAreRead(_ text: String, _ host: String, _ port: Int, _ loopback: Bool) throws {
        let address = try AdminAddress(parsing: text)
        #expect(address.host == host && address.port == port && address.isLoopback == loopback)
        #expect(address.description == text)
    }

    @Test(arguments: ["9464", "127.0.0.1", "127.0.0.1:70000", ":9464", "[::1]9464", "::1:9464", "host:port"])
    func badAddressesSayWhatIsExpected(_ text: String) {
        #expect(throws: AdminConfigurationError.self) { try AdminAddress(parsing: text) }
    }

    @Test func plainHTTPBeyondLoopbackNeedsTLSOrInsecure() throws {
        let open = AdminConfiguration(address: AdminAddress(host: "0.0.0.0", port: 9464), tokensFile: "t.yaml")
        #expect(throws: AdminConfigurationError.self) { try open.checkListener() }
        var insecure = open
        insecure.allowInsecure = true
        try insecure.checkListener()
        var tls = open
        tls.tls = .init(certificate: "c.pem", key: "k.pem")
        try tls.checkListener()
        try AdminConfiguration(address: AdminAddress(host: "127.0.0.1", port: 0), tokensFile: "t.yaml").checkListener()
    }

    @Test func tokensAreKnownByTheirHashOnly() throws {
        let entries = try TokenStore.parse(
            "tokens:\n  - { id: alice, sha256: \(AdminFixture.hash("s3cret")) }\n  - { id: bob, sha256: \(AdminFixture.hash("other")) }\n",
            file: "tokens.yaml")
        #expect(entries.map(\.id) == ["alice", "bob"])
        #expect(!entries.contains { $0.hash == Array("s3cret".utf8) })
    }

    @Test(arguments: [
        ("tokens: []\nextra: 1\n", "tokens.yaml:2: extra: unknown field"),
        ("{}\n", "a tokens file needs 'tokens'"),
        ("tokens:\n  - { id: alice }\n", "tokens.yaml:2: tokens[1]: a token needs 'id' and 'sha256'"),
        ("tokens:\n  - { id: alice, sha256: abc }\n", "tokens.yaml:2: tokens[1].sha256: expected the lowercase hex SHA-256"),
        ("tokens:\n  - { id: \"a b\", sha256: \(String(repeating: "a", count: 64)) }\n", "tokens[1].id: \"a b\" is not a token id"),
        ("tokens:\n  - { id: alice, sha256: \(String(repeating: "A", count: 64)) }\n", "expected the lowercase hex"),
        (
            "tokens:\n  - { id: a, sha256: \(String(repeating: "a", count: 64)) }\n  - { id: a, sha256: \(String(repeating: "b", count: 64)) }\n",
            "the id a appears twice"
        ),
        (
            "tokens:\n  - { id: a, sha256: \(String(repeating: "a", count: 64)) }\n  - { id: b, sha256: \(String(repeating: "a", count: 64)) }\n",
            "this hash appears twice"
        ),
    ])
    func aBadTokensFileNamesTheLine(_ text: String, _ message: String) {
        let error = #expect(throws: ConfigurationError.self) { try TokenStore.parse(text, file: "tokens.yaml") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func aRemovedTokenIsRefusedAfterAReloadAndABrokenFileKeepsTheOldTokens() throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        let store = try TokenStore(path: fixture.folder + "/tokens.yaml", logger: .silent)
        #expect(store.identify(AdminFixture.aliceToken) == "alice" && store.identify(AdminFixture.viewerToken) == "viewer")
        #expect(store.identify("guess") == nil)
        try AdminFixture.writeTokens(to: fixture.folder + "/tokens.yaml", [("alice", AdminFixture.aliceToken)])
        #expect(store.reload())
        #expect(store.identify(AdminFixture.viewerToken) == nil, "revoked without a restart")
        try AdminFixture.writeTokens(to: fixture.folder + "/tokens.yaml", [])
        TestFiles.write(fixture.folder + "/tokens.yaml", "tokens: [")
        #expect(!store.reload())
        #expect(store.identify(AdminFixture.aliceToken) == "alice", "the last good file stays in force")
    }

    @Test func repeatedFailuresAreAnsweredLater() {
        let throttle = AuthFailureThrottle(freePerMinute: 3)
        let delays = (0..<6).map { throttle.delayAfterFailure(now: Int64($0) * 1_000_000_000) }
        #expect(delays == [.zero, .zero, .zero, .seconds(1), .seconds(2), .seconds(3)])
        // A minute later the allowance is back.
        #expect(throttle.delayAfterFailure(now: 200_000_000_000) == .zero)
        #expect((0..<20).map { throttle.delayAfterFailure(now: 300_000_000_000 + Int64($0)) }.max() == .seconds(5))
    }

    @Test func eventFramesAreServerSentEvents() {
        let frame = EventStream.frame("audit", ["action": "automation.freeze"])
        #expect(frame == "event: audit\ndata: {\"action\":\"automation.freeze\"}\n\n")
        #expect(EventStream.keepaliveFrame.hasPrefix(":"))
    }

    @Test func bearerTokensAreReadFromTheHeader() {
        #expect(AdminAuthMiddleware.bearer("Bearer abc") == "abc")
        #expect(AdminAuthMiddleware.bearer("bearer   abc  ") == "abc")
        #expect(AdminAuthMiddleware.bearer("Basic abc") == nil)
        #expect(AdminAuthMiddleware.bearer("Bearer") == nil)
        #expect(AdminAuthMiddleware.bearer(nil) == nil)
    }
}

#if canImport(Glibc)
import Glibc
#endif

enum TestFiles {
    static func write(_ path: String, _ text: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.withCString { Glibc.write(descriptor, $0, strlen($0)) }
        close(descriptor)
    }
}
