import InMemoryTracing
import Resilience
import Sentinel
import Testing
import Tracing

@testable import SentinelTracing

/// A control plane on a manual clock whose audit log writes to an ``AuditSpanSink``.
struct TracedSentinel {
    let registry = ParameterRegistry()
    let clock = ManualClock()
    let tracer = InMemoryTracer()
    let sink: AuditSpanSink
    let plane: ControlPlane
    let engine: ScriptEngine

    init(tracer configured: Bool = true) throws {
        let time = ClockTimeSource(clock)
        _ = try Pipeline("checkout", registry: registry, time: time, seed: 1) {
            Retry(maxAttempts: 3)
            CircuitBreaker()
        }
        sink = AuditSpanSink(configuration: .init(tracer: configured ? tracer : nil))
        plane = ControlPlane(registry: registry, audit: AuditLog(sinks: [sink]), time: time, epoch: 1_800_000_000)
        engine = ScriptEngine(plane: plane, logger: .silent)
    }

    /// The finished `sentinel` spans a script's evaluations made.
    var evaluationSpans: [FinishedInMemorySpan] {
        tracer.finishedSpans.filter { $0.attribute(SentinelSpanAttribute.correlationID) != nil }
    }
}

@Suite struct AuditSpanSinkTests {
    static let tighten = """
        return {
          name = "tighten",
          interval = "5s",
          evaluate = function(state, memory)
            sentinel.set("checkout.retry.max_attempts", 2, { reason = "calm", evidence = { calls = 0 } })
            sentinel.set("checkout.breaker.failure_rate", 7, "out of bounds")
          end,
        }
        """

    @Test func anEvaluationsDecisionsAreEventsOnOneSentinelSpan() async throws {
        let fixture = try TracedSentinel()
        _ = try await fixture.engine.load(path: "policies/tighten.lua", source: Self.tighten).get()
        fixture.clock.advance(by: .seconds(5))
        let round = await fixture.engine.tick()
        #expect(round.outcomes.map(\.outcome.outcome) == [.applied, .rejected])
        #expect(fixture.evaluationSpans.isEmpty)  // open until the round's flush
        #expect(fixture.sink.openSpans == 1)
        fixture.plane.audit.flush()
        #expect(fixture.sink.openSpans == 0)

        let span = try #require(fixture.evaluationSpans.only)
        #expect(span.operationName == "sentinel")
        #expect(span.parentSpanID == nil)
        #expect(span.attribute(SentinelSpanAttribute.actor) == .string("script:tighten"))
        #expect(span.attribute(SentinelSpanAttribute.script) == .string("tighten"))
        #expect(span.attribute(SentinelSpanAttribute.decisions) == .int64(2))
        #expect(span.attribute(SentinelSpanAttribute.count(of: .applied)) == .int64(1))
        #expect(span.attribute(SentinelSpanAttribute.count(of: .rejected)) == .int64(1))
        #expect(span.attribute(SentinelSpanAttribute.count(of: .failed)) == nil)
        #expect(span.status == nil)
        // At the audit's times: the plane's epoch plus the 5 s of the manual clock.
        #expect(span.startInstant.nanosecondsSinceEpoch == 1_800_000_005_000_000_000)
        #expect(span.endInstant.nanosecondsSinceEpoch == 1_800_000_005_000_000_000)

        #expect(span.events.map(\.name) == ["param.set", "param.set"])
        let applied = span.events[0]
        #expect(applied.nanosecondsSinceEpoch == 1_800_000_005_000_000_000)
        #expect(applied.attribute(SentinelSpanAttribute.outcome) == .string("applied"))
        #expect(applied.attribute(SentinelSpanAttribute.actor) == .string("script:tighten"))
        #expect(applied.attribute(SentinelSpanAttribute.target) == .string("checkout.retry.max_attempts"))
        #expect(applied.attribute(SentinelSpanAttribute.reason) == .string("calm"))
        #expect(applied.attribute(SentinelSpanAttribute.evidence) == .string(#"{"calls":0}"#))
        #expect(applied.attribute(SentinelSpanAttribute.arguments) == .string(#"{"param":"checkout.retry.max_attempts","value":2}"#))
        let rejected = span.events[1]
        #expect(rejected.attribute(SentinelSpanAttribute.outcome) == .string("rejected"))
        #expect(rejected.attribute(SentinelSpanAttribute.target) == .string("checkout.breaker.failure_rate"))
    }

    @Test func theNextEvaluationEndsTheLastOnesSpan() async throws {
        let fixture = try TracedSentinel()
        _ = try await fixture.engine.load(path: "policies/tighten.lua", source: Self.tighten).get()
        fixture.clock.advance(by: .seconds(5))
        await fixture.engine.tick()
        fixture.clock.advance(by: .seconds(5))
        await fixture.engine.tick()
        #expect(fixture.evaluationSpans.count == 1)
        #expect(fixture.sink.openSpans == 1)
        fixture.sink.close()
        let spans = fixture.evaluationSpans
        #expect(spans.count == 2)
        #expect(spans.map(\.startInstant.nanosecondsSinceEpoch) == [1_800_000_005_000_000_000, 1_800_000_010_000_000_000])
        #expect(Set(spans.map(\.traceID)).count == 2)  // each evaluation is a trace of its own
    }

    @Test func otherDecisionsAreSpansOfTheirOwn() async throws {
        let fixture = try TracedSentinel()
        _ = try await fixture.engine.load(path: "policies/tighten.lua", source: Self.tighten).get()
        let outcome = await fixture.plane.execute(
            "breaker.force_open", ["pipeline": "checkout"],
            context: CommandContext(identity: .operator("ana"), source: "test", reason: "maintenance"))
        #expect(outcome.outcome == .applied)
        // Ended at once, without a flush: the script's load and the operator's command.
        let spans = fixture.tracer.finishedSpans
        #expect(spans.map { $0.events.map(\.name) } == [["script.load"], ["breaker.force_open"]])
        let command = spans[1]
        #expect(command.operationName == "sentinel")
        #expect(command.attribute(SentinelSpanAttribute.actor) == .string("operator:ana"))
        #expect(command.attribute(SentinelSpanAttribute.script) == nil)
        #expect(command.attribute(SentinelSpanAttribute.decisions) == .int64(1))
        #expect(command.events[0].attribute(SentinelSpanAttribute.reason) == .string("maintenance"))
        #expect(fixture.sink.openSpans == 0)
    }

    @Test func aFailedDecisionMarksItsSpanAsAnError() throws {
        let fixture = try TracedSentinel()
        fixture.sink.write(
            AuditEntry(
                time: 1_800_000_001, actor: "script:x", action: "custom.thing", outcome: .failed, reason: "boom",
                correlationID: "x@1"))
        fixture.sink.flush()
        let span = try #require(fixture.tracer.finishedSpans.only)
        #expect(span.status?.code == .error)
        #expect(span.attribute(SentinelSpanAttribute.count(of: .failed)) == .int64(1))
    }

    @Test func spansAreBoundedInNumberAndEvents() throws {
        let tracer = InMemoryTracer()
        let sink = AuditSpanSink(configuration: .init(maximumOpenSpans: 2, maximumEventsPerSpan: 3, tracer: tracer))
        for script in ["a", "b", "c"] {
            sink.write(AuditEntry(time: 1, actor: "script:\(script)", action: "param.set", outcome: .applied, correlationID: "\(script)@1"))
        }
        #expect(sink.openSpans == 2)
        #expect(tracer.finishedSpans.map { $0.attribute(SentinelSpanAttribute.script) } == [.string("a")])
        for _ in 0..<4 {
            sink.write(AuditEntry(time: 2, actor: "script:b", action: "param.set", outcome: .applied, correlationID: "b@1"))
        }
        // b's span ended at its third event; its fifth opened a new one.
        #expect(tracer.finishedSpans.map { $0.events.count } == [1, 3])
        sink.flush()
        #expect(tracer.finishedSpans.map { $0.events.count } == [1, 3, 1, 2])
    }

    @Test func argumentsCanBeLeftOut() throws {
        let tracer = InMemoryTracer()
        let sink = AuditSpanSink(configuration: .init(recordsArguments: false, tracer: tracer))
        sink.write(
            AuditEntry(
                time: 1, actor: "operator:ana", action: "param.set", args: ["param": "a.b.c", "value": 1], outcome: .applied,
                evidence: ["x": 1]))
        let event = try #require(tracer.finishedSpans.only?.events.only)
        #expect(event.attribute(SentinelSpanAttribute.arguments) == nil)
        #expect(event.attribute(SentinelSpanAttribute.evidence) == nil)
        #expect(event.attribute(SentinelSpanAttribute.outcome) == .string("applied"))
    }

    @Test func withoutATracerTheSinkKeepsNothing() async throws {
        let fixture = try TracedSentinel(tracer: false)
        _ = try await fixture.engine.load(path: "policies/tighten.lua", source: Self.tighten).get()
        fixture.clock.advance(by: .seconds(5))
        await fixture.engine.tick()
        #expect(fixture.sink.openSpans == 0)
        fixture.plane.audit.flush()
        #expect(fixture.tracer.finishedSpans.isEmpty)
        // The audit itself is unchanged.
        #expect(fixture.plane.audit.entries.map(\.action) == ["script.load", "param.set", "param.set"])
    }

    @Test func aTracerScopeAroundTheRoundIsUsed() async throws {
        let fixture = try TracedSentinel(tracer: false)
        _ = try await fixture.engine.load(path: "policies/tighten.lua", source: Self.tighten).get()
        fixture.clock.advance(by: .seconds(5))
        await withTracer(fixture.tracer) {
            _ = await fixture.engine.tick()
        }
        fixture.plane.audit.flush()
        #expect(fixture.evaluationSpans.only?.events.count == 2)
    }
}
