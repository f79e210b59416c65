import Testing

@testable import Resilience

@Suite struct CallReportTests {
    @Test func aReportHoldsAttemptsRetriesVariantAndOutcome() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
            TrafficSplit([("stable", 0), ("canary", 100)])
        }
        let report = CallReport()
        async let result: Int = pipeline.execute(report: report) { call in
            if call.attempt < 3 { throw BackendError() }
            return call.attempt
        }
        for _ in 0..<2 {
            await clock.waitForSleepers(count: 1)
            clock.advance(by: .milliseconds(100))
        }
        #expect(try await result == 3)
        #expect(report.attempts == 3)
        #expect(report.variant == "canary")
        #expect(report.outcome == .success)
        #expect(report.shadowOutcome == nil && !report.shadowDisagreed)
        #expect(report.retries == [.init(attempt: 2, delay: 0.1, time: 0), .init(attempt: 3, delay: 0.1, time: 100 * millisecond)])
        #expect(report.start == 0 && report.end == 200 * millisecond)
    }

    @Test func aRejectionIsReportedAsTheWindowsCountIt() async throws {
        let (pipeline, _, _) = try manualPipeline {
            CircuitBreaker()
            TrafficSplit([("stable", 100)])
        }
        pipeline.breaker?.forceOpen()
        let report = CallReport()
        await #expect(throws: ResilienceError.self) { try await pipeline.execute(report: report) { _ in 1 } }
        #expect(report.outcome == .rejectedByBreaker)
        #expect(report.attempts == 1)
        #expect(report.variant == nil)  // refused before the split
    }

    @Test func theShadowsVerdictIsReported() async throws {
        let (pipeline, _, registry) = try manualPipeline { Retry(maxAttempts: 2, baseDelay: .zero, jitter: .none, budgetRatio: nil) }
        try registry.apply([.setShadow("checkout.retry.max_attempts", 1)])
        let report = CallReport()
        _ = try await pipeline.execute(report: report) { call in
            if call.attempt < 2 { throw BackendError() }
            return 1
        }
        #expect(report.outcome == .success)
        #expect(report.shadowOutcome == .failure)
        #expect(report.shadowDisagreed)
    }

    /// The nested engine runs what is inside an enforced timeout on a copy of
    /// the call; the report keeps the attempts and variant a timeout discards.
    @Test func anEnforcedTimeoutKeepsTheAttemptsItCutShort() async throws {
        let (pipeline, clock, _) = try manualPipeline {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3, backoff: .constant, baseDelay: .milliseconds(100), jitter: .none, budgetRatio: nil)
            TrafficSplit([("stable", 100)])
        }
        let report = CallReport()
        async let result: Int = pipeline.execute(report: report) { call in
            if call.attempt == 1 { throw BackendError() }
            try await clock.sleep(for: .seconds(10))
            return 1
        }
        await clock.waitForSleepers(count: 2)  // the timeout's timer and the backoff
        clock.advance(by: .milliseconds(100))
        await clock.waitForSleepers(count: 2)  // the timeout's timer and the second attempt
        clock.advance(by: .milliseconds(400))
        do {
            _ = try await result
            Issue.record("the call should have timed out")
        } catch {
            #expect((error as? ResilienceError)?.code == .timedOut)
        }
        #expect(report.outcome == .timeout)
        #expect(report.attempts == 2)
        #expect(report.variant == "stable")
        #expect(report.retries.map(\.attempt) == [2])
    }

    @Test func aCallWithoutAReportIsUnchanged() async throws {
        let (pipeline, _, _) = try manualPipeline { Retry(maxAttempts: 2, baseDelay: .zero, jitter: .none, budgetRatio: nil) }
        let value = try await pipeline.execute { call in
            if call.attempt < 2 { throw BackendError() }
            return call.attempt
        }
        #expect(value == 2)
        #expect(pipeline.windows.stats(.tenSeconds, now: pipeline.time.now()).successes == 1)
    }
}
