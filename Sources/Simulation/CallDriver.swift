import Resilience

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An outer attempt's error when the pipeline it went `via` failed the call.
struct ViaCallFailed: Error, CustomStringConvertible {
    var pipeline: String
    var description: String { "the call through \(pipeline) failed" }
}

/// The hot half of a run: calls, backends, arrivals and the event queue.
///
/// A struct held in a local variable while the run loops, so that the
/// compiler checks exclusive access statically: as stored properties of the
/// ``Simulation`` class every access cost a runtime check (a quarter of the time).
struct CallDriver {
    var runtimes: [PipelineRuntime]
    var backends: [SimulatedBackend]
    var calls: [CallRecord] = []
    var freeSlots: [Int32] = []
    var queue = EventQueue()
    /// Calls begun, `via` calls included.
    var simulatedCalls = 0
    /// Virtual run length in seconds (traffic patterns are defined over it).
    let duration: Double
    /// The instant the run started: 0 on virtual time, the clock's reading on the real one.
    var origin: Int64 = 0
    /// A call that takes at least this long (nanoseconds) counts as slow (the scenario's `slow_call`).
    var slowCall: Int64 = .max
    /// The scenario's pipelines: `runtimes` holds them once per instance, instance after instance.
    var pipelinesPerInstance = 0
    /// The instances that take traffic, in order (a fleet's; `[0]` without one).
    var alive: [Int] = [0]
    /// In a fleet, per pipeline: every instance's calls in one set of windows
    /// (overall, then each variant), what the output's percentiles read; empty without one.
    var fleetWindows: [[OutcomeWindows]] = []
}

extension CallDriver {
    // MARK: - Arrivals

    /// The longest wait drawn for the next arrival, in seconds.
    static let longestArrivalGap: Double = 86_400

    /// Draws the next arrival of pipeline `p`.
    mutating func scheduleArrival(_ p: Int, now: Int64) {
        guard let traffic = runtimes[p].traffic else { return }
        let t = Double(now - origin) / 1e9  // the traffic pattern's time: since the start
        let rate = traffic.pattern.rate(at: t, base: traffic.rate, duration: duration)
        let token = runtimes[p].arrivalToken
        guard rate > 0 else {
            // No traffic now: look again in 100 ms (a pattern may bring it back).
            queue.schedule(.arrival, at: now + 100_000_000, a: Int32(p), c: 0, token: token)
            return
        }
        let u = runtimes[p].trafficRandom.nextUnit()
        // A tiny rate (1e-300/s) draws a gap of ages: look again after a day at most.
        let gap = min(-log(1 - u) / rate, Self.longestArrivalGap)
        queue.schedule(.arrival, at: now + max(1, Int64(gap * 1e9)), a: Int32(p), c: 1, token: token)
    }

    mutating func arrival(_ event: ScheduledEvent, now: Int64) {
        let p = Int(event.a)
        guard runtimes[p].arrivalToken == event.token else { return }
        if event.c == 1 {
            var key: String?
            let keys = runtimes[p].keys
            if !keys.isEmpty { key = keys[Int(runtimes[p].trafficRandom.next() % UInt64(keys.count))] }
            var target = p
            if !fleetWindows.isEmpty {
                // A balancer that spreads calls evenly over the instances alive.
                let instance = alive[Int(runtimes[p].trafficRandom.next() % UInt64(alive.count))]
                target = instance * pipelinesPerInstance + p
            }
            beginCall(target, key: key, parent: -1, parentToken: 0, now: now)
        }
        scheduleArrival(p, now: now)
    }

    // MARK: - Calls

    mutating func beginCall(_ p: Int, key: String?, parent: Int32, parentToken: UInt32, now: Int64) {
        simulatedCalls &+= 1
        let (call, step) = runtimes[p].pipeline.beginSimulatedCall(key: key, at: now)
        let c: Int32
        if let reused = freeSlots.popLast() {
            c = reused
            calls[Int(c)] = CallRecord(
                call: call, pipeline: Int32(p), token: calls[Int(c)].token &+ 1, parent: parent,
                parentToken: parentToken, variant: -1, key: key)
        } else {
            c = Int32(calls.count)
            calls.append(
                CallRecord(
                    call: call, pipeline: Int32(p), token: 0, parent: parent, parentToken: parentToken, variant: -1, key: key))
        }
        advance(c, step, now: now)
    }

    /// Acts on what the pipeline said the call needs next.
    mutating func advance(_ c: Int32, _ step: SimulationStep, now: Int64) {
        let i = Int(c)
        let p = Int(calls[i].pipeline)
        switch step {
        case .run(let context):
            let variant = runtimes[p].variantIndex(context.variant)
            if calls[i].variant < 0 { calls[i].variant = Int16(variant) }
            calls[i].token &+= 1
            let token = calls[i].token
            let deadline = calls[i].call.deadline
            switch runtimes[p].target(forVariant: variant) {
            case .backend(let b):
                submit(b, call: c, token: token, deadline: deadline, now: now)
            case .pipeline(let inner):
                if let deadline { queue.schedule(.deadline, at: deadline + 1, c: c, token: token) }
                beginCall(inner, key: calls[i].key, parent: c, parentToken: token, now: now)
            }
        case .backoff(let until):
            calls[i].token &+= 1
            queue.schedule(.backoffOver, at: until, c: c, token: calls[i].token)
        case .queued(let until):
            calls[i].token &+= 1
            runtimes[p].queued.append(c)
            if let until { queue.schedule(.queueTimeout, at: until, c: c, token: calls[i].token) }
        case .finished(let outcome):
            let slow = now - calls[i].call.start >= slowCall
            runtimes[p].totals.record(outcome, slow: slow)
            let variant = Int(calls[i].variant)
            if variant >= 0 { runtimes[p].variantTotals[variant].record(outcome, slow: slow) }
            if !fleetWindows.isEmpty {
                let q = p % pipelinesPerInstance, latency = now - calls[i].call.start
                fleetWindows[q][0].record(outcome, latency: latency, now: now)
                if variant >= 0 { fleetWindows[q][variant + 1].record(outcome, latency: latency, now: now) }
            }
            let parent = calls[i].parent
            let parentToken = calls[i].parentToken
            calls[i].token &+= 1
            calls[i].key = nil
            freeSlots.append(c)
            if parent >= 0, calls[Int(parent)].token == parentToken {
                endAttempt(parent, error: outcome.isFailure ? ViaCallFailed(pipeline: runtimes[p].name) : nil, now: now)
            }
        }
    }

    /// Ends the running attempt of call `c` with `error` (nil: success, or a timeout past the deadline).
    mutating func endAttempt(_ c: Int32, error: (any Error)?, now: Int64) {
        let i = Int(c)
        calls[i].token &+= 1
        let p = Int(calls[i].pipeline)
        let step = runtimes[p].pipeline.finishAttempt(&calls[i].call, error: error, at: now)
        // The attempt gave its bulkhead permit back: the oldest waiting call goes first.
        if !runtimes[p].queued.isEmpty { pollQueued(p, now: now) }
        advance(c, step, now: now)
    }

    // MARK: - Bulkhead queue

    mutating func pollQueued(_ p: Int, now: Int64) {
        while let c = runtimes[p].queued.first {
            let i = Int(c)
            guard let step = runtimes[p].pipeline.pollQueue(&calls[i].call, at: now, giveUp: false) else { return }
            runtimes[p].queued.removeFirst()
            calls[i].token &+= 1
            advance(c, step, now: now)
        }
    }

    mutating func queueTimeout(_ event: ScheduledEvent, now: Int64) {
        let i = Int(event.c)
        guard calls[i].token == event.token else { return }
        let p = Int(calls[i].pipeline)
        guard let step = runtimes[p].pipeline.pollQueue(&calls[i].call, at: now, giveUp: true) else { return }
        if let position = runtimes[p].queued.firstIndex(of: event.c) { runtimes[p].queued.remove(at: position) }
        calls[i].token &+= 1
        advance(event.c, step, now: now)
    }

    // MARK: - Backends

    mutating func submit(_ b: Int, call c: Int32, token: UInt32, deadline: Int64?, now: Int64) {
        if backends[b].hasRoom {
            startService(b, call: c, token: token, deadline: deadline, now: now)
        } else if backends[b].mayQueue {
            backends[b].waiting.append((c, token))
            if let deadline { queue.schedule(.deadline, at: deadline + 1, c: c, token: token) }
        } else {
            endAttempt(c, error: backends[b].overloadError, now: now)
        }
    }

    mutating func startService(_ b: Int, call c: Int32, token: UInt32, deadline: Int64?, now: Int64) {
        backends[b].inService += 1
        let (latency, fails) = backends[b].draw()
        let done = now + latency
        if let deadline, done > deadline {
            // The caller gives up at its deadline; the backend still works until it is done.
            queue.schedule(.deadline, at: deadline + 1, c: c, token: token)
            queue.schedule(.served, at: done, a: Int32(b), c: c, token: token &- 1)  // a token that never matches
        } else {
            queue.schedule(fails ? .servedWithError : .served, at: done, a: Int32(b), c: c, token: token)
        }
    }

    mutating func served(_ event: ScheduledEvent, now: Int64) {
        let b = Int(event.a)
        backends[b].inService -= 1
        startWaiting(b, now: now)
        guard calls[Int(event.c)].token == event.token else { return }
        endAttempt(event.c, error: event.kind == .servedWithError ? backends[b].failureError : nil, now: now)
    }

    /// Starts waiting requests while the backend has room; those whose caller gave up are dropped.
    mutating func startWaiting(_ b: Int, now: Int64) {
        while backends[b].hasRoom, let (c, token) = backends[b].waiting.popFirst() {
            let i = Int(c)
            guard calls[i].token == token else { continue }
            startService(b, call: c, token: token, deadline: calls[i].call.deadline, now: now)
        }
    }
}

extension CallDriver {
    /// Handles an event of the calls themselves (arrivals, answers, deadlines, backoffs,
    /// queue timeouts) at its time; false for those the loop's owner handles
    /// (script ticks, scenario events, samples).
    mutating func handleCallEvent(_ event: ScheduledEvent) -> Bool {
        let now = event.time
        switch event.kind {
        case .arrival: arrival(event, now: now)
        case .served, .servedWithError: served(event, now: now)
        case .deadline:
            if calls[Int(event.c)].token == event.token { endAttempt(event.c, error: nil, now: now) }
        case .backoffOver: backoffOver(event, now: now)
        case .queueTimeout: queueTimeout(event, now: now)
        case .scriptTick, .trialTick, .scenarioEvent, .sample, .fleetSlice, .fleetMerge, .fleetElection: return false
        }
        return true
    }

    mutating func backoffOver(_ event: ScheduledEvent, now: Int64) {
        let c = Int(event.c)
        guard calls[c].token == event.token else { return }
        let step = runtimes[Int(calls[c].pipeline)].pipeline.resume(&calls[c].call, at: now)
        advance(event.c, step, now: now)
    }
}
