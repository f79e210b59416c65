import Resilience
import Sentinel
import Testing

@testable import SentinelAdmin

#if canImport(Glibc)
import Glibc
#endif

/// The `notifications` section of `--config`: what it reads, and errors that
/// name the file, the line and the field, never a secret.
@Suite struct NotificationConfigurationTests {
    static let environment: @Sendable (String) -> String? = {
        ["SLACK_WEBHOOK": "https://hooks.example/services/T1/B2/s3cr3tpath", "HOOK_TOKEN": "Bearer tok-123"][$0]
    }

    static let example = """
        roles:
          canary:
            - commands: [param.set]
        notifications:
          - name: ops-chat
            url: { env: SLACK_WEBHOOK }
            kind: slack
            events:
              alerts: warning
              audit:
                - actions: ["trial.*", "approval.grant", "approval.deny"]
                  outcomes: [applied]
                - actions: ["*"]
                  outcomes: [denied, failed]
              approvals: true
            secret_header: { name: Authorization, env: HOOK_TOKEN }
            queue: 100
            rate_limit: { count: 20, per: 1m }
            retries: { max: 4, initial_delay: 2s, max_delay: 30s }
            timeout: 5s
          - url: http://127.0.0.1:8080/hook
            events: { approvals: true }
        """

    @Test func theDocumentedExampleReadsEveryField() throws {
        let configuration = try NotificationConfiguration(yaml: Self.example, file: "sentinel.yaml", environment: Self.environment)
        #expect(configuration.endpoints.count == 2)
        let chat = configuration.endpoints[0]
        #expect(chat.name == "ops-chat" && chat.kind == .slack)
        #expect(chat.url.origin == "https://hooks.example" && chat.url.secret.source == .environment("SLACK_WEBHOOK"))
        #expect(chat.events.minimumAlertSeverity == .warning && chat.events.approvals)
        #expect(
            chat.events.audit == [
                .init(actions: ["trial.*", "approval.grant", "approval.deny"], outcomes: [.applied]),
                .init(actions: ["*"], outcomes: [.denied, .failed]),
            ])
        #expect(chat.secretHeader?.name == "Authorization" && chat.secretHeader?.value.reveal() == "Bearer tok-123")
        #expect(chat.queueCapacity == 100)
        #expect(chat.rateLimit == .init(count: 20, per: .seconds(60)))
        #expect(chat.retries == .init(maxRetries: 4, initialDelay: .seconds(2), maxDelay: .seconds(30)))
        #expect(chat.timeout == .seconds(5))
        let plain = configuration.endpoints[1]
        #expect(plain.name == "127.0.0.1" && plain.kind == .json && plain.url.port == 8080)
        #expect(plain.events == NotificationEvents(approvals: true))
        #expect(plain.queueCapacity == 256 && plain.rateLimit == .init(count: 10, per: .seconds(10)))
    }

    @Test func theControlPlaneLeavesTheSectionToItsReaderAndOnlyThen() throws {
        // Handed over: the core reads its fields and accepts the section.
        let core = try ControlPlaneConfiguration(
            yaml: Self.example, file: "sentinel.yaml", otherSections: [NotificationConfiguration.section])
        #expect(core.access.roles["canary"] != nil)
        // Not handed over: an unknown field, as before.
        let refused = #expect(throws: ConfigurationError.self) {
            _ = try ControlPlaneConfiguration(yaml: Self.example, file: "sentinel.yaml")
        }
        #expect(refused?.line == 5 && refused?.field == "notifications" && refused?.message.hasPrefix("unknown field") == true)
        // A file without the section has no endpoints.
        #expect(try NotificationConfiguration(yaml: "roles: {}\n", file: "sentinel.yaml").endpoints.isEmpty)
        #expect(try NotificationConfiguration(yaml: "", file: "sentinel.yaml").endpoints.isEmpty)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var endpoint: String
        var line: Int
        var field: String
        var message: String
        var testDescription: String { "\(field): \(message)" }
    }

    static let cases: [Case] = [
        Case(
            endpoint: "url: https://h.example/x\n    kind: teams\n    events: { alerts: info }", line: 3, field: "notifications[1].kind",
            message: "expected json or slack, got \"teams\""),
        Case(
            endpoint: "url: ftp://h.example/x\n    events: { alerts: info }", line: 2, field: "notifications[1].url",
            message: "expected an http:// or https:// URL"),
        Case(
            endpoint: "url: https://h.example/x", line: 2, field: "notifications[1]",
            message: "an endpoint needs 'events' (alerts, audit, approvals): say what to send"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: loud }", line: 3, field: "notifications[1].events.alerts",
            message: "expected the minimum severity: info, warning or critical, got \"loud\""),
        Case(
            endpoint: "url: https://h.example/x\n    events:\n      audit: { actions: [\"*\"], outcomes: [applied, maybe] }", line: 4,
            field: "notifications[1].events.audit.outcomes[2]",
            message: "expected an outcome (applied, denied, rejected, failed, dry_run), got \"maybe\""),
        Case(
            endpoint: "url: https://h.example/x\n    events: {}", line: 3, field: "notifications[1].events",
            message: "no events selected: give alerts, audit or approvals: true"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: info }\n    secret_header: { name: X-Token, env: NOT_SET_HERE }",
            line: 4, field: "notifications[1].secret_header.env", message: "the environment variable NOT_SET_HERE is not set"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: info }\n    secret_header: { name: Content-Type, env: HOOK_TOKEN }",
            line: 4, field: "notifications[1].secret_header.name", message: "Content-Type is set by the sender; pick another header"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: info }\n    retry: { max: 3 }", line: 4,
            field: "notifications[1].retry",
            message: "unknown field (expected one of: events, kind, name, queue, rate_limit, retries, secret_header, timeout, url)"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: info }\n    rate_limit: { count: 0, per: 1s }", line: 4,
            field: "notifications[1].rate_limit.count", message: "0 is out of range (expected a whole number from 1 to 100000)"),
        Case(
            endpoint: "url: https://h.example/x\n    events: { alerts: info }\n    retries: { initial_delay: 10s, max_delay: 1s }", line: 4,
            field: "notifications[1].retries.max_delay", message: "max_delay is shorter than initial_delay"),
        Case(
            endpoint: "url: { env: SLACK_WEBHOOK, file: /x }\n    events: { alerts: info }", line: 2, field: "notifications[1].url",
            message: "expected a URL, { file: PATH } or { env: NAME }"),
    ]

    @Test(arguments: cases) func aBadEndpointIsNamedByFileLineAndField(_ bad: Case) {
        let yaml = "notifications:\n  - " + bad.endpoint + "\n"
        let error = #expect(throws: ConfigurationError.self) {
            _ = try NotificationConfiguration(yaml: yaml, file: "sentinel.yaml", environment: Self.environment)
        }
        #expect(error?.file == "sentinel.yaml")
        #expect(error?.line == bad.line)
        #expect(error?.field == bad.field)
        #expect(error?.message == bad.message)
    }

    @Test func twoEndpointsWithOneNameAreRefused() {
        let yaml = """
            notifications:
              - { name: chat, url: "https://a.example/x", events: { alerts: info } }
              - { name: chat, url: "https://b.example/y", events: { alerts: info } }
            """
        let error = #expect(throws: ConfigurationError.self) { _ = try NotificationConfiguration(yaml: yaml, file: "n.yaml") }
        #expect(
            error.map { "\($0)" }
                == "n.yaml:3: notifications[2]: two endpoints are named \"chat\" (the other at line 2); give each a distinct name")
    }

    @Test func errorsNeverQuoteASecret() throws {
        // Credentials in a URL read from the environment.
        let leaky: @Sendable (String) -> String? = { $0 == "HOOK" ? "https://user:hunter2@hooks.example/x" : nil }
        do {
            _ = try NotificationConfiguration(
                yaml: "notifications:\n  - { url: { env: HOOK }, events: { alerts: info } }\n", file: "n.yaml", environment: leaky)
            Issue.record("accepted credentials in the URL")
        } catch {
            #expect("\(error)" == "n.yaml:2: notifications[1].url: credentials do not belong in the URL; use secret_header")
            #expect(!"\(error)".contains("hunter2"))
        }
        // A header value with a line break (a file of two lines).
        let path = try Self.temporaryFile("first-line\nsecond-line-s3cr3t\n")
        defer { unlink(path) }
        do {
            _ = try NotificationConfiguration(
                yaml:
                    "notifications:\n  - url: https://h.example/x\n    events: { alerts: info }\n    secret_header: { name: X-Token, file: \(path) }\n",
                file: "n.yaml")
            Issue.record("accepted a header value with a line break")
        } catch {
            #expect("\(error)" == "n.yaml:4: notifications[1].secret_header.file: the value read from file \(path) holds a line break")
            #expect(!"\(error)".contains("s3cr3t") && !"\(error)".contains("first-line"))
        }
        // A missing file names the file.
        do {
            _ = try NotificationConfiguration(
                yaml:
                    "notifications:\n  - url: https://h.example/x\n    events: { alerts: info }\n    secret_header: { name: X-Token, file: /nonexistent/token }\n",
                file: "n.yaml")
            Issue.record("accepted a missing file")
        } catch {
            #expect("\(error)" == "n.yaml:4: notifications[1].secret_header.file: /nonexistent/token: no such file")
        }
        // A secret read from a file, trimmed; printed only as where it came from.
        let good = try Self.temporaryFile("  tok-abc  \n")
        defer { unlink(good) }
        let configuration = try NotificationConfiguration(
            yaml:
                "notifications:\n  - url: https://h.example/x\n    events: { alerts: info }\n    secret_header: { name: X-Token, file: \(good) }\n",
            file: "n.yaml")
        let header = try #require(configuration.endpoints.first?.secretHeader)
        #expect(header.value.reveal() == "tok-abc")
        #expect("\(header.value)" == "<redacted from file \(good)>")
        #expect(!"\(configuration)".contains("tok-abc") && !String(reflecting: configuration).contains("tok-abc"))
    }

    static func temporaryFile(_ text: String) throws -> String {
        var template = Array("/tmp/sentinel-secret-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw ReceiverError("mkstemp failed") }
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        close(descriptor)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
