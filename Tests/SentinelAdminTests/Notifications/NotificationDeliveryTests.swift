import Logging
import Resilience
import Sentinel
import ServiceLifecycleTestKit
import Testing

@testable import SentinelAdmin

/// Notifications end to end: a runtime's alerts and decisions, a
/// notification service attached to it, and a webhook receiver on
/// 127.0.0.1 that records, fails or holds requests as each test needs.
/// Backoffs run on a manual clock; waits are on events, each bounded.
@Suite(.timeLimit(.minutes(5))) struct NotificationDeliveryTests {
    static let decisions = NotificationEvents(
        minimumAlertSeverity: .warning, audit: [.init(actions: ["param.*"], outcomes: [.applied]), .init(actions: ["marker.*"])])

    static func marker(_ harness: NotifierHarness, _ name: String) {
        harness.plane.audit.append(AuditEntry(time: harness.plane.now, actor: "operator:test", action: "marker.\(name)", outcome: .applied))
    }

    @Test func aJSONEndpointReceivesAlertsAndDecisionsInTheDocumentedShape() async throws {
        try await WebhookReceiver.with { receiver in
            let harness = try NotifierHarness([.test(receiver.url(), events: Self.decisions)])
            try await harness.running {
                await harness.alerts.send(.test("p99 jumped", fields: ["pipeline": "checkout", "p99": 0.84]))
                await harness.alerts.send(.test("below the minimum", severity: .info))
                let outcome = await harness.plane.execute(
                    "param.set", ["param": "checkout.split.canary_weight", "value": 5],
                    context: CommandContext(identity: .operator("alice"), reason: "start the canary"))
                #expect(outcome.outcome == .applied)
                // After the info alert in the same stream: once it arrives, the info alert was read (and not sent).
                await harness.alerts.send(.test("last"))
                let requests = try await receiver.waitForRequests(3)
                try await harness.waitFor(.delivered, count: 3)
                #expect(requests.count == 3)
                #expect(!requests.contains { $0.json["alert"]["message"] == "below the minimum" })
                for request in requests {
                    #expect(request.path == "/hook")
                    #expect(request.headers["content-type"] == "application/json; charset=utf-8")
                    #expect(request.json["version"] == 1 && request.json["instance"] == "test-1")
                }

                let alert = try #require(requests.first { $0.json["event"] == "alert" }?.json)
                #expect(
                    Set(alert.objectValue?.keys.map { $0 } ?? []) == [
                        "version", "event", "time", "summary", "instance", "pipeline", "alert",
                    ])
                #expect(alert["pipeline"] == "checkout")
                #expect(alert["time"] == "2027-01-15T08:00:00.000Z")
                #expect(alert["summary"] == "warning alert from script:test: p99 jumped")
                #expect(alert["alert"]["severity"] == "warning" && alert["alert"]["source"] == "script:test")
                #expect(alert["alert"]["fields"]["p99"] == 0.84)

                let decision = try #require(requests.first { $0.json["event"] == "audit" }?.json)
                #expect(
                    Set(decision.objectValue?.keys.map { $0 } ?? []) == [
                        "version", "event", "time", "summary", "instance", "pipeline", "audit",
                    ])
                #expect(decision["pipeline"] == "checkout")
                #expect(decision["summary"] == "param.set applied by operator:alice: checkout.split.canary_weight = 5 (start the canary)")
                #expect(decision["audit"]["action"] == "param.set" && decision["audit"]["outcome"] == "applied")
                #expect(decision["audit"]["target"] == "checkout.split.canary_weight" && decision["audit"]["reason"] == "start the canary")
            }
            #expect(harness.metric("sentinel_notifications_delivered_total") == 3)
        }
    }

    /// Sets the canary once, with a reason and evidence as a rule gives them.
    static let canaryRule = """
        return {
          interval = "1s",
          evaluate = function(state, memory)
            sentinel.set("checkout.split.canary_weight", 5, {
              reason = "canary healthy at 1% <p99 fine> & errors low",
              evidence = { canary = { error_rate = 0.0012, calls = 1200 }, threshold = 0.01, note = "text is left out" },
            })
          end,
        }
        """

    @Test func aSlackEndpointReceivesTextAPersonCanRead() async throws {
        try await WebhookReceiver.with(paths: ["/services/T000/B000/XXXX"]) { receiver in
            let events = NotificationEvents(audit: [.init(actions: ["param.set"])])
            let harness = try NotifierHarness([.test(receiver.url("/services/T000/B000/XXXX"), kind: .slack, events: events)])
            try await harness.running {
                _ = try await harness.runtime.engine.load(path: "canary.lua", source: Self.canaryRule).get()
                _ = await harness.runtime.round(at: 1_000_000_000)
                let body = try #require(try await receiver.waitForRequests(1).first?.json)
                let text = try #require(body["text"].stringValue)
                let lines = text.split(separator: "\n").map(String.init)
                #expect(lines.count == 4, "\(text)")
                #expect(lines.first == ":white_check_mark: *param.set applied* checkout.split.canary_weight = 5")
                #expect(lines.contains("why: canary healthy at 1% &lt;p99 fine&gt; &amp; errors low"))
                #expect(lines.contains("evidence: canary.calls 1200 · canary.error_rate 0.0012 · threshold 0.01"))
                #expect(lines.last?.hasPrefix("script:canary · pipeline checkout · sentinel test-1 · 2027-01-15T08:00:0") == true)
                #expect(body["blocks"][0]["type"] == "section" && body["blocks"][0]["text"]["type"] == "mrkdwn")
                #expect(body["blocks"][0]["text"]["text"].stringValue?.hasPrefix(":white_check_mark: *param.set applied*") == true)
                #expect(body["blocks"][1]["type"] == "context")
                #expect(body["blocks"][1]["elements"][0]["text"].stringValue?.contains("pipeline checkout") == true)
            }
        }
    }

    @Test func aServerErrorIsRetriedWithBackoffThenDelivered() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.answer(500, 503)
            let harness = try NotifierHarness([.test(receiver.url())])
            try await harness.running {
                await harness.alerts.send(.test("retry me"))
                try await harness.waitFor(.retried)
                await harness.clock.waitForSleepers(count: 1)
                // Equal jitter: the first retry comes 0.5 to 1 s after the failure, never sooner.
                harness.clock.advance(by: .milliseconds(499))
                #expect(harness.clock.sleeperCount == 1)
                #expect(receiver.received.count == 1)
                harness.clock.advance(by: .milliseconds(501))
                try await harness.waitFor(.retried, count: 2)
                await harness.clock.waitForSleepers(count: 1)
                // The second: 1 to 2 s.
                harness.clock.advance(by: .milliseconds(999))
                #expect(harness.clock.sleeperCount == 1)
                harness.clock.advance(by: .milliseconds(1001))
                try await harness.waitFor(.delivered)
                let requests = receiver.received
                #expect(requests.count == 3)
                #expect(Set(requests.map(\.body)).count == 1, "the same body every time")
                #expect(harness.events.value.filter { $0.kind == .retried }.map(\.status) == [500, 503])
            }
            #expect(harness.metric("sentinel_notifications_retried_total") == 2)
            #expect(harness.metric("sentinel_notifications_delivered_total") == 1)
            #expect(harness.metric("sentinel_notifications_failed_total") == 0)
            #expect(harness.service.statistics()["hook"]?.retried == 2)
        }
    }

    @Test func aClientErrorIsNotRetriedAndRetriesRunOut() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.answer(404, 500, 500, 500, 500)
            let harness = try NotifierHarness([.test(receiver.url())])
            try await harness.running {
                await harness.alerts.send(.test("not found"))
                let failed = try await harness.waitFor(.failed)
                #expect(failed[0].status == 404 && failed[0].attempt == 1)
                await harness.alerts.send(.test("keeps failing"))
                for retry in 1...3 {
                    try await harness.waitFor(.retried, count: retry)
                    await harness.clock.waitForSleepers(count: 1)
                    harness.clock.advance(by: .seconds(8))
                }
                let given = try await harness.waitFor(.failed, count: 2)
                #expect(given[1].attempt == 4 && given[1].reason == "HTTP 500; gave up after 4 attempts")
                #expect(receiver.received.count == 5)
            }
            #expect(harness.metric("sentinel_notifications_failed_total") == 2)
            #expect(harness.metric("sentinel_notifications_retried_total") == 3)
        }
    }

    @Test func aRefusedConnectionIsRetriedUntilTheReceiverListens() async throws {
        // Bound and never listening (connections refused), held until the receiver takes the port over.
        let reserved = try ReservedPort()
        let port = reserved.port
        let harness = try NotifierHarness([.test("http://127.0.0.1:\(port)/hook")])
        try await harness.running {
            await harness.alerts.send(.test("anyone there?"))
            let retried = try await harness.waitFor(.retried)
            #expect(retried[0].status == nil && retried[0].attempt == 1)
            await harness.clock.waitForSleepers(count: 1)
            try await WebhookReceiver.with(taking: reserved) { receiver in
                harness.clock.advance(by: .seconds(1))
                let delivered = try await harness.waitFor(.delivered)
                #expect(delivered[0].attempt == 2)
                #expect(receiver.received.count == 1)
                #expect(receiver.received.first?.json["alert"]["message"] == "anyone there?")
            }
        }
        #expect(harness.metric("sentinel_notifications_retried_total") == 1)
        #expect(harness.metric("sentinel_notifications_delivered_total") == 1)
    }

    @Test func aFullQueueDropsAndCountsTheOverflow() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.hold()
            let harness = try NotifierHarness([.test(receiver.url(), queue: 2)])
            try await harness.running {
                await harness.alerts.send(.test("1"))
                try await receiver.heldCount.wait("the first request held") { $0 == 1 }
                for number in 2...6 { await harness.alerts.send(.test("\(number)")) }
                // 1 in flight, 2 and 3 queued, 4 to 6 dropped.
                let dropped = try await harness.waitFor(.dropped, count: 3)
                #expect(dropped.allSatisfy { $0.reason == "the queue is full (2 waiting)" })
                #expect(harness.service.statistics()["hook"]?.queued == 2)
                #expect(harness.metric("sentinel_notifications_dropped_total") == 3)
                receiver.release()
                try await harness.waitFor(.delivered, count: 3)
                #expect(receiver.received.map { $0.json["alert"]["message"] } == ["1", "2", "3"])
            }
            #expect(harness.service.statistics()["hook"]?.dropped == 3)
            let warnings = harness.logs.lines.withLock { $0.filter { $0.contains("notifications are being dropped") } }
            #expect(warnings.count == 1, "logged once per episode, not per drop")
        }
    }

    /// Alerts at every evaluation.
    static let ticker = """
        return {
          interval = "1s",
          evaluate = function(state, memory)
            memory.n = (memory.n or 0) + 1
            sentinel.alert("warning", "tick " .. memory.n, { pipeline = "checkout", n = memory.n })
          end,
        }
        """

    /// Runs the ticker's rounds 2 to 40 of `runtime`, each within 30 s (a
    /// round that waited for the receiver fails the test instead of hanging
    /// it); returns their median duration.
    static func tickerRounds(_ runtime: SentinelRuntime) async throws -> Duration {
        let clock = ContinuousClock()
        var durations: [Duration] = []
        for second in 2...40 {
            let start = clock.now
            let round = try await within(.seconds(30), "round \(second) to return") {
                await runtime.round(at: Int64(second) * 1_000_000_000)
            }
            durations.append(start.duration(to: clock.now))
            #expect(round.scripts.evaluated == ["ticker"])
        }
        return durations.sorted()[durations.count / 2]
    }

    @Test func aReceiverThatNeverAnswersDelaysNoEvaluation() async throws {
        // The baseline: the same rounds with nobody listening to the alerts.
        let alone = try NotifierHarness([])
        _ = try await alone.runtime.engine.load(path: "ticker.lua", source: Self.ticker).get()
        _ = await alone.runtime.round(at: 1_000_000_000)
        let baseline = try await Self.tickerRounds(alone.runtime)
        try await WebhookReceiver.with { receiver in
            receiver.hold()
            // The held request must not time out however long a busy machine takes
            // here: a retry would wait for a backoff on the harness's manual clock.
            let harness = try NotifierHarness([.test(receiver.url(), queue: 4, timeout: .seconds(240))])
            try await harness.running {
                _ = try await harness.runtime.engine.load(path: "ticker.lua", source: Self.ticker).get()
                let first = await harness.runtime.round(at: 1_000_000_000)
                #expect(first.scripts.evaluated == ["ticker"])
                try await receiver.heldCount.wait("the first alert held at the receiver") { $0 == 1 }
                // The receiver holds the sender's request: every further evaluation runs and returns, about as fast as alone.
                let held = try await Self.tickerRounds(harness.runtime)
                #expect(held <= baseline * 10 + .milliseconds(20), "median round \(held) with a held receiver, \(baseline) alone")
                // 39 more alerts: 4 wait in the queue, 35 are dropped; none waited for the receiver.
                try await harness.waitFor(.dropped, count: 35)
                #expect(receiver.heldCount.value == 1 && receiver.received.count == 1)
                #expect(harness.service.statistics()["hook"]?.queued == 4)
                receiver.release()
                let delivered = try await receiver.waitForRequests(5)
                let numbers = delivered.compactMap { $0.json["alert"]["fields"]["n"].doubleValue }
                #expect(numbers.count == 5 && zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 })
                try await harness.waitFor(.delivered, count: 5)
            }
        }
    }

    /// Waits for an approval at every evaluation.
    static let gatedRelease = """
        return {
          interval = "1s",
          evaluate = function(state, memory)
            sentinel.approval("release", { message = "canary healthy, release?" })
          end,
        }
        """

    /// The gates audit `approval.request` when a script opens a gate (the
    /// notifier relays every one): were a waiting gate audited again at each
    /// evaluation, this would see five.
    @Test func aGatesRequestIsSentOnceNotAtEveryEvaluation() async throws {
        try await WebhookReceiver.with { receiver in
            let events = NotificationEvents(audit: [.init(actions: ["marker.*"])], approvals: true)
            let harness = try NotifierHarness([.test(receiver.url(), events: events)])
            try await harness.running {
                _ = try await harness.runtime.engine.load(path: "release.lua", source: Self.gatedRelease).get()
                for second in 1...5 { _ = await harness.runtime.round(at: Int64(second) * 1_000_000_000) }
                Self.marker(harness, "one")
                // The marker follows the evaluations in the audit: once it is delivered, they were all read.
                var requests = try await receiver.waitForRequests(2)
                #expect(requests.map { $0.json["event"] } == ["approval.request", "audit"])
                let approval = requests[0].json
                #expect(approval["approval"]["gate"] == "release" && approval["approval"]["requested_by"] == "script:release")
                #expect(approval["approval"]["message"] == "canary healthy, release?")
                #expect(approval["approval"]["approve"] == #"sentinel approve release --reason "...""#)
                #expect(approval["approval"]["deny"] == #"sentinel deny release --reason "...""#)
                #expect(approval["audit"]["action"] == "approval.request")
                #expect(approval["summary"] == "approval requested for gate release by script:release: canary healthy, release?")

                // Once the script resets the gate, asking again is a new request (sent once too).
                harness.runtime.approvals.reset("release", by: "script:release")
                for second in 6...8 { _ = await harness.runtime.round(at: Int64(second) * 1_000_000_000) }
                Self.marker(harness, "two")
                requests = try await receiver.waitForRequests(4)
                #expect(requests.map { $0.json["event"] } == ["approval.request", "audit", "approval.request", "audit"])
                #expect(requests.count == 4)
            }
        }
    }

    @Test func theSecretHeaderIsSentAndNeverLogged() async throws {
        let token = "tok-7f3a9c1e-never-log-me"
        try await WebhookReceiver.with(paths: ["/hook/path-secret-42"]) { receiver in
            let url = receiver.url("/hook/path-secret-42")
            let yaml = """
                notifications:
                  - name: hook
                    url: { env: HOOK_URL }
                    events: { alerts: info }
                    secret_header: { name: X-Sentinel-Token, env: HOOK_TOKEN }
                    retries: { max: 1, initial_delay: 1s }
                """
            let environment: @Sendable (String) -> String? = { ["HOOK_URL": url, "HOOK_TOKEN": token][$0] }
            let configuration = try NotificationConfiguration(yaml: yaml, file: "sentinel.yaml", environment: environment)
            receiver.answer(500, 200, 404)
            let harness = try NotifierHarness(configuration.endpoints)
            try await harness.running {
                await harness.alerts.send(.test("first"))
                try await harness.waitFor(.retried)
                await harness.clock.waitForSleepers(count: 1)
                harness.clock.advance(by: .seconds(1))
                try await harness.waitFor(.delivered)
                await harness.alerts.send(.test("second"))
                try await harness.waitFor(.failed)
            }
            let requests = receiver.received
            #expect(requests.count == 3)
            #expect(requests.allSatisfy { $0.headers["x-sentinel-token"] == token })

            let logs = harness.logs.text
            #expect(logs.contains("notification not delivered"), "the failure was logged: \(logs)")
            #expect(logs.contains("origin=http://127.0.0.1:\(receiver.port)"))
            for secret in [token, "path-secret-42"] {
                #expect(!logs.contains(secret))
                #expect(!"\(configuration)".contains(secret) && !String(reflecting: configuration).contains(secret))
                #expect(!harness.events.value.contains { "\($0)".contains(secret) })
            }
        }
    }

    @Test func gracefulShutdownSendsWhatWasDecidedBeforeIt() async throws {
        try await WebhookReceiver.with { receiver in
            let harness = try NotifierHarness([.test(receiver.url(), events: .init(audit: [.init(actions: ["marker.*"])]))])
            let service = harness.service
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    for number in 1...50 { Self.marker(harness, "\(number)") }
                    trigger.triggerGracefulShutdown()
                    // Returns by itself once everything appended before the shutdown was sent.
                    try await group.next()
                }
            }
            #expect(receiver.received.map { $0.json["audit"]["action"].stringValue ?? "" } == (1...50).map { "marker.\($0)" })
            #expect(harness.service.statistics()["hook"]?.delivered == 50)
        }
    }

    @Test func theDrainIsBoundedAndCountsWhatIsLeft() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.hold()
            let harness = try NotifierHarness(
                [.test(receiver.url(), events: .init(audit: [.init(actions: ["marker.*"])]))], drainTimeout: .seconds(5))
            let service = harness.service
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    for number in 1...3 { Self.marker(harness, "\(number)") }
                    try await receiver.heldCount.wait("the first request held") { $0 == 1 }
                    trigger.triggerGracefulShutdown()
                    await harness.clock.waitForSleepers(count: 1)
                    harness.clock.advance(by: .seconds(5))
                    try await group.next()
                }
            }
            let statistics = try #require(harness.service.statistics()["hook"])
            #expect(statistics.delivered == 0 && statistics.dropped == 3)
            #expect(harness.logs.text.contains("the drain took longer than 5.0 seconds"))
        }
    }

    @Test func aBodyThatStallsOrBreaksOffAfterA2xxIsDeliveredOnceAndHoldsNothingUp() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.bodies(.stall)
            // The timeout leaves a busy machine time to send the head; the stall then uses it up.
            let harness = try NotifierHarness([.test(receiver.url(), timeout: .seconds(2))])
            try await harness.running {
                // The head says 200, then the body stalls: delivered within the timeout, not retried.
                await harness.alerts.send(.test("stalled"))
                let delivered = try await harness.waitFor(.delivered)
                #expect(delivered[0].status == 200 && delivered[0].attempt == 1)
                // The head says 200, then the connection breaks: delivered, not sent again.
                receiver.bodies(.breakOff)
                await harness.alerts.send(.test("broken"))
                try await harness.waitFor(.delivered, count: 2)
                receiver.bodies(.complete)
                await harness.alerts.send(.test("after"))
                try await harness.waitFor(.delivered, count: 3)
                #expect(receiver.received.map { $0.json["alert"]["message"] } == ["stalled", "broken", "after"])
                #expect(harness.count(.retried) == 0)
            }
        }
    }

    @Test func aTooManyRequestsRetryAfterIsHonouredUpToTheLongestBackoff() async throws {
        try await WebhookReceiver.with { receiver in
            receiver.answer(429, headers: ["Retry-After": "3"])
            receiver.answer(429, headers: ["Retry-After": "3600"])
            let harness = try NotifierHarness([.test(receiver.url())])
            try await harness.running {
                await harness.alerts.send(.test("slow down"))
                try await harness.waitFor(.retried)
                await harness.clock.waitForSleepers(count: 1)
                // 3 s as asked (the backoff alone would be 0.5 to 1 s).
                harness.clock.advance(by: .milliseconds(2999))
                #expect(harness.clock.sleeperCount == 1)
                #expect(receiver.received.count == 1)
                harness.clock.advance(by: .milliseconds(1))
                try await harness.waitFor(.retried, count: 2)
                await harness.clock.waitForSleepers(count: 1)
                // An hour asked, the longest backoff (8 s) waited.
                harness.clock.advance(by: .milliseconds(7999))
                #expect(harness.clock.sleeperCount == 1)
                harness.clock.advance(by: .milliseconds(1))
                try await harness.waitFor(.delivered)
                #expect(receiver.received.count == 3)
                #expect(harness.events.value.filter { $0.kind == .retried }.map(\.status) == [429, 429])
            }
        }
    }

    @Test func anIntakeThatFallsBehindCountsWhatItLostAndTheDrainStillEnds() async throws {
        try await WebhookReceiver.with { receiver in
            let harness = try NotifierHarness(
                [.test(receiver.url(), events: .init(audit: [.init(actions: ["marker.*"])]))], intakeBuffer: (audit: 4, alerts: 4))
            // Nothing reads yet: the subscription keeps the newest 4 of 10, and the 6 older are counted at once.
            for number in 1...10 { Self.marker(harness, "\(number)") }
            #expect(harness.service.statistics()["hook"]?.dropped == 6)
            #expect(harness.metric("sentinel_notifications_dropped_total") == 6)
            let service = harness.service
            let stopped = Observed(false)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await service.run()
                        stopped.update { $0 = true }
                    }
                    trigger.triggerGracefulShutdown()
                    // Ends by itself: the drain's own timeout (on a clock that never moves here) is not what ends it.
                    try await stopped.wait("the service to stop") { $0 }
                    try await group.waitForAll()
                }
            }
            #expect(receiver.received.map { $0.json["audit"]["action"].stringValue ?? "" } == (7...10).map { "marker.\($0)" })
            let statistics = try #require(harness.service.statistics()["hook"])
            #expect(statistics.delivered == 4 && statistics.dropped == 6)
            #expect(harness.logs.text.contains("the notifier fell behind (4 unread)"))
            #expect(!harness.logs.text.contains("the drain took longer"))
        }
    }

    @Test func afterRunTheEventStreamsEndNotifyCountsStoppedAndRunAgainThrows() async throws {
        try await WebhookReceiver.with { receiver in
            let harness = try NotifierHarness([.test(receiver.url())])
            let service = harness.service
            let early = service.deliveryEvents()
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    trigger.triggerGracefulShutdown()
                    try await group.next()
                }
            }
            let seen = try await within(.seconds(20), "the event stream to end") { await early.reduce(0) { count, _ in count + 1 } }
            #expect(seen == 0)
            let late = service.deliveryEvents()
            service.notify(.alert(.test("too late")))
            let lateEvents = try await within(.seconds(20), "a late stream to end") { await late.reduce(0) { count, _ in count + 1 } }
            #expect(lateEvents == 0)
            #expect(service.statistics()["hook"]?.dropped == 1)
            #expect(harness.logs.text.contains("reason=the service has stopped"))
            await #expect(throws: NotificationServiceError.self) { try await service.run() }
            #expect(receiver.received.isEmpty)
        }
    }
}
