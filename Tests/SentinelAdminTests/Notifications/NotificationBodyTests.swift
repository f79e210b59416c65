import Resilience
import Sentinel
import Testing

@testable import SentinelAdmin

/// Bodies, selection and schedules, without a network.
@Suite struct NotificationBodyTests {
    static let rollback = AuditEntry(
        time: 1_800_000_000, actor: "sentinel", action: "trial.rollback", target: "checkout-timeout",
        args: ["param": "checkout.timeout.duration"], outcome: .applied, reason: "p99 regressed by 40% after promotion",
        evidence: ["live": ["p99": 0.41234, "calls": 5000], "baseline": ["p99": 0.29], "passed": false, "note": "words are left out"])

    @Test func theSlackTextSaysWhatWhichPipelineWhyAndTheNumbers() {
        let body = NotificationBody.slack(.audit(Self.rollback), instance: "checkout-1")
        let text = body["text"].stringValue ?? ""
        #expect(
            text == """
                :rewind: *trial.rollback applied* checkout-timeout
                why: p99 regressed by 40% after promotion
                evidence: baseline.p99 0.29 · live.calls 5000 · live.p99 0.4123 · passed false
                sentinel · pipeline checkout · sentinel checkout-1 · 2027-01-15T08:00:00.000Z
                """)
    }

    @Test func theJSONBodyKeepsItsShape() throws {
        let body = NotificationBody.json(.audit(Self.rollback), instance: nil)
        #expect(body["version"] == 1 && body["event"] == "audit" && body["instance"] == .null && body["pipeline"] == "checkout")
        #expect(body["audit"] == Self.rollback.jsonValue)
        let bytes = NotificationBody.render(.audit(Self.rollback), kind: .json, instance: nil)
        #expect(try JSONValue(json: String(decoding: bytes, as: UTF8.self)) == body)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"audit":{"action":"trial.rollback""#), "sorted keys")
    }

    @Test(arguments: [
        (0.0012, "0.0012"), (0.41234, "0.4123"), (1200.0, "1200"), (12.3456, "12.35"), (-0.5, "-0.5"), (Double.nan, "NaN"),
        (123_456.789, "123457"), (0.000_000_1, "1e-07"),
    ])
    func numbersReadWell(_ number: Double, _ text: String) {
        #expect(KeyNumbers.text(number) == text)
    }

    @Test func slackTextIsEscaped() {
        #expect(NotificationBody.escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d")
    }

    @Test func theBackoffDoublesWithEqualJitterUpToItsCap() {
        let retries = NotificationEndpoint.Retries(maxRetries: 5, initialDelay: .seconds(1), maxDelay: .seconds(5))
        let low = (1...5).map { retries.delay(beforeRetry: $0, unit: 0) }
        let high = (1...5).map { retries.delay(beforeRetry: $0, unit: 0.999_999) }
        #expect(low == [.milliseconds(500), .seconds(1), .seconds(2), .milliseconds(2500), .milliseconds(2500)])
        #expect(zip(high, [1.0, 2, 4, 5, 5]).allSatisfy { abs($0.secondsDouble - $1) < 0.001 })
    }

    @Test func eventsAreSelectedBySeverityActionAndOutcome() {
        let events = NotificationEvents(
            minimumAlertSeverity: .warning, audit: [.init(actions: ["trial.*"], outcomes: [.applied])], approvals: false)
        let alert = { (severity: Alert.Severity) in NotificationEvent.alert(Alert(time: 0, source: "s", severity: severity, message: "m")) }
        #expect(!events.matches(alert(.info)) && events.matches(alert(.warning)) && events.matches(alert(.critical)))
        #expect(events.matches(.audit(Self.rollback)))
        var denied = Self.rollback
        denied.outcome = .denied
        #expect(!events.matches(.audit(denied)))
        let request = NotificationEvent(
            AuditEntry(time: 0, actor: "script:canary", action: "approval.request", target: "release", outcome: .applied))
        #expect(request == .approvalRequest(request.entry!) && !events.matches(request))
        #expect(NotificationEvents(approvals: true).matches(request))
    }

    @Test func thePipelineComesFromTheEvent() {
        let set = AuditEntry(time: 0, actor: "a", action: "param.set", target: "payments.retry.max_attempts", outcome: .applied)
        #expect(NotificationEvent.audit(set).pipeline == "payments")
        let breaker = AuditEntry(time: 0, actor: "a", action: "breaker.force_open", args: ["pipeline": "search"], outcome: .applied)
        #expect(NotificationEvent.audit(breaker).pipeline == "search")
        let freeze = AuditEntry(time: 0, actor: "a", action: "automation.freeze", outcome: .applied)
        #expect(NotificationEvent.audit(freeze).pipeline == nil)
        #expect(
            NotificationEvent.alert(Alert(time: 0, source: "s", severity: .info, message: "m", fields: ["pipeline": "x"])).pipeline == "x")
    }
}

extension NotificationEvent {
    var entry: AuditEntry? {
        switch self {
        case .alert: nil
        case .audit(let entry), .approvalRequest(let entry): entry
        }
    }
}
