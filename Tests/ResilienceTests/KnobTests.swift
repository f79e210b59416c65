import Testing

@testable import Resilience

@Suite struct KnobTests {
    func registryWithCheckout() throws -> (ParameterRegistry, Pipeline) {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("checkout", registry: registry, time: ClockTimeSource(ManualClock())) {
            Timeout(.milliseconds(500))
            Retry(maxAttempts: 3)
            CircuitBreaker()
            Bulkhead(maxConcurrent: 8, maxQueued: 4)
            RateLimit(rate: 100, algorithm: .tokenBucket(burst: 10))
            TrafficSplit([("canary", 5), ("stable", 95)])
        }
        return (registry, pipeline)
    }

    @Test func everyPolicyRegistersItsKnobsUnderThePipelineName() throws {
        let (registry, _) = try registryWithCheckout()
        let names = Set(registry.parameters().map(\.name))
        for name in [
            "checkout.timeout.duration", "checkout.retry.max_attempts", "checkout.breaker.failure_rate",
            "checkout.bulkhead.max_concurrent", "checkout.ratelimit.rate", "checkout.split.canary_weight",
        ] {
            #expect(names.contains(name), "\(name) missing")
        }
        let info = try registry.parameter("checkout.timeout.duration")
        #expect(info.value == 0.5)
        #expect(info.descriptor.unit == "s")
        #expect(info.descriptor.kind == .duration)
    }

    @Test(arguments: [
        ("checkout.retry.max_attempts", Double.nan, KnobError.Code.notANumber),
        ("checkout.retry.max_attempts", Double.infinity, KnobError.Code.notFinite),
        ("checkout.retry.max_attempts", 2.5, KnobError.Code.notAnInteger),
        ("checkout.retry.max_attempts", 1000, KnobError.Code.outOfBounds),
        ("checkout.timeout.duration", -1, KnobError.Code.negativeDuration),
        ("checkout.bulkhead.max_concurrent", 0, KnobError.Code.zeroCapacity),
        ("checkout.split.canary_weight", 101, KnobError.Code.weightOutOfRange),
        ("checkout.split.canary_weight", -1, KnobError.Code.weightOutOfRange),
        ("checkout.breaker.failure_rate", 1.5, KnobError.Code.outOfBounds),
    ])
    func badValuesAreRejectedWithAReasonNamingTheKnob(name: String, value: Double, code: KnobError.Code) throws {
        let (registry, _) = try registryWithCheckout()
        let before = try registry.parameter(name)
        do {
            try registry.set(name, value)
            Issue.record("\(name) = \(value) was accepted")
        } catch {
            #expect(error.code == code)
            #expect(error.knob == name)
            #expect(error.message.contains(name))
        }
        #expect(try registry.parameter(name) == before)
    }

    @Test func unknownAndMalformedNamesAreRejected() throws {
        let (registry, _) = try registryWithCheckout()
        #expect(throws: KnobError.self) { try registry.set("checkout.retry.nope", 1) }
        do { try registry.set("checkout.retry", 1) } catch { #expect(error.code == .malformedName) }
        do { try registry.set("other.retry.max_attempts", 1) } catch { #expect(error.code == .unknownKnob) }
    }

    @Test func splitWeightsCannotBeShadowed() throws {
        let (registry, _) = try registryWithCheckout()
        do {
            try registry.setShadow("checkout.split.canary_weight", 50)
            Issue.record("shadow weight accepted")
        } catch {
            #expect(error.code == .notShadowable)
        }
    }

    @Test func aBatchIsAllOrNothing() throws {
        let (registry, pipeline) = try registryWithCheckout()
        let version = pipeline.knobs.read().version
        #expect(throws: KnobError.self) {
            try registry.apply([.set("checkout.retry.max_attempts", 5), .set("checkout.timeout.duration", .nan)])
        }
        #expect(try registry.value("checkout.retry.max_attempts") == 3)
        #expect(pipeline.knobs.read().version == version)
        try registry.apply([.set("checkout.retry.max_attempts", 5), .set("checkout.timeout.duration", 2)])
        let snapshot = pipeline.knobs.read()
        #expect(snapshot.version == version + 1)
        #expect(try registry.value("checkout.retry.max_attempts") == 5)
    }

    @Test func shadowSetPromoteAndClear() throws {
        let (registry, pipeline) = try registryWithCheckout()
        try registry.setShadow("checkout.timeout.duration", 0.25)
        var info = try registry.parameter("checkout.timeout.duration")
        #expect(info.value == 0.5 && info.shadow == 0.25)
        #expect(pipeline.knobs.read().hasShadows)
        try registry.promote("checkout.timeout.duration")
        info = try registry.parameter("checkout.timeout.duration")
        #expect(info.value == 0.25 && info.shadow == nil)
        #expect(!pipeline.knobs.read().hasShadows)
        do { try registry.promote("checkout.timeout.duration") } catch { #expect(error.code == .noShadow) }
        try registry.setShadow("checkout.timeout.duration", 1)
        try registry.clearShadow("checkout.timeout.duration")
        #expect(try registry.parameter("checkout.timeout.duration").shadow == nil)
        #expect(info.version == 2)
    }

    @Test func adaptiveStandaloneKnobValidatesAndStreamsChanges() async throws {
        let knob = try Adaptive<Int>(
            name: "search.bulkhead.max_concurrent", kind: .integer, default: 32,
            bounds: 1...4096, validator: { $0.truncatingRemainder(dividingBy: 2) == 0 ? nil : "must be even" })
        #expect(knob.value == 32)
        let stream = knob.changes()
        try knob.set(64)
        #expect(throws: KnobError.self) { try knob.set(63) }
        try knob.setShadow(128)
        #expect(knob.shadow == 128)
        try knob.promoteShadow()
        #expect(knob.value == 128 && knob.shadow == nil)
        #expect(knob.version == 3)
        var actions: [KnobChange.Action] = []
        for await change in stream {
            actions.append(change.action)
            if actions.count == 3 { break }
        }
        #expect(actions == [.set, .setShadow, .promote])
    }

    @Test func durationKnobConvertsToDuration() throws {
        let knob = try Adaptive<Duration>(name: "a.timeout.duration", kind: .duration, default: .milliseconds(250), bounds: 0...10)
        #expect(knob.value == .milliseconds(250))
        try knob.set(.seconds(2))
        #expect(knob.value == .seconds(2))
    }

    @Test(arguments: [
        ("250ms", 0.25), ("5s", 5), ("2m", 120), ("1h", 3600), ("1m30s", 90), ("1.5s", 1.5),
        ("100us", 0.0001), ("0.75", 0.75), (" 10ms ", 0.01),
    ])
    func durationStringsParse(text: String, seconds: Double) throws {
        #expect(abs(try DurationParser.seconds(from: text) - seconds) < 1e-12)
    }

    @Test(arguments: ["", "fast", "5 parsecs", "ms", "5x", "-3s", "-1"])
    func badDurationStringsAreRejected(text: String) {
        #expect(throws: KnobError.self) { try DurationParser.seconds(from: text, knob: "checkout.timeout.duration") }
    }

    @Test func duplicatePipelineNamesAreRejected() throws {
        let (registry, _) = try registryWithCheckout()
        #expect(throws: KnobError.self) {
            try Pipeline("checkout", registry: registry) { Retry() }
        }
    }

    @Test func changingAKnobIsSeenByTheNextCallsSnapshot() throws {
        let (registry, pipeline) = try registryWithCheckout()
        let slot = try #require(pipeline.knobs.index(of: "checkout.retry.max_attempts"))
        #expect(pipeline.knobs.read().value(slot) == 3)
        try registry.set("checkout.retry.max_attempts", 1)
        #expect(pipeline.knobs.read().value(slot) == 1)
        #expect(pipeline.knobs.liveValue(slot) == 1)
    }
}

@Suite struct RegistryExtrasTests {
    @Test func textValuesAreParsedByKnobKind() throws {
        let registry = ParameterRegistry()
        _ = try Pipeline("api", registry: registry, time: ClockTimeSource(ManualClock())) {
            Timeout(.seconds(1))
            Retry(maxAttempts: 3)
        }
        try registry.set("api.timeout.duration", parsing: "250ms")
        #expect(try registry.value("api.timeout.duration") == 0.25)
        try registry.setShadow("api.timeout.duration", parsing: "2s")
        #expect(try registry.parameter("api.timeout.duration").shadow == 2)
        try registry.set("api.retry.max_attempts", parsing: "5")
        #expect(try registry.value("api.retry.max_attempts") == 5)
        #expect(throws: KnobError.self) { try registry.set("api.retry.max_attempts", parsing: "five") }
        #expect(throws: KnobError.self) { try registry.set("api.timeout.duration", parsing: "-1s") }
    }

    @Test func registryStreamsEveryAppliedChange() async throws {
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("api", registry: registry, time: ClockTimeSource(ManualClock())) { Retry(maxAttempts: 3) }
        let changes = registry.changes()
        try registry.apply([.set("api.retry.max_attempts", 2), .setShadow("api.retry.base_delay", 0.5)])
        #expect(throws: KnobError.self) { try registry.set("api.retry.max_attempts", 0) }
        try pipeline.knob("max_attempts", as: Int.self)?.set(4)
        var seen: [String] = []
        for await change in changes {
            seen.append("\(change.knob) \(change.action.rawValue) \(change.value)")
            if seen.count == 3 { break }
        }
        #expect(
            seen == [
                "api.retry.max_attempts set 2.0", "api.retry.base_delay set_shadow 0.1",
                "api.retry.max_attempts set 4.0",
            ])
    }
}
