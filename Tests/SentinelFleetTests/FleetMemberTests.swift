import Logging
import PostgresNIO
import Resilience
import Sentinel
import Testing

@testable import SentinelFleet

/// Instances in one process, each with its own runtime and its own sessions,
/// sharing one real PostgreSQL schema.
@Suite(
    .enabled(if: TestDatabase.runs, "no PostgreSQL server (SENTINEL_TEST_POSTGRES_URL); make test starts one"), .serialized,
    .timeLimit(.minutes(1)))
struct FleetMemberTests {
    final class Instance: Sendable {
        let name: String
        let registry = ParameterRegistry()
        let pipeline: Pipeline
        let runtime: SentinelRuntime
        let member: FleetMember
        let task: Locked<Task<Void, Never>?> = Locked(nil)

        init(_ name: String, database: FleetDatabase) throws {
            self.name = name
            pipeline = try Pipeline("checkout", registry: registry, seed: 1) {
                Timeout(.milliseconds(500))
                Retry(maxAttempts: 3)
                TrafficSplit([("stable", 100), ("canary", 0)])
            }
            let plane = ControlPlane(registry: registry)
            runtime = SentinelRuntime(plane: plane, logger: TestDatabase.logger)
            member = FleetMember(
                runtime: runtime, database: database,
                configuration: .init(
                    instance: name, lease: .seconds(4), renewEvery: .milliseconds(300), candidateEvery: .milliseconds(100),
                    pollEvery: .milliseconds(500), reconnectFirst: .milliseconds(50), reconnectLongest: .milliseconds(400)),
                logger: TestDatabase.logger)
        }

        func start() {
            let member = member
            task.withLock { $0 = Task { try? await member.run() } }
        }

        func stop() async {
            let running = task.withLock { $0 }
            running?.cancel()
            await running?.value
        }

        var leads: Bool { get async { await member.mayDecide() } }

        func value(_ knob: String) -> Double? { try? registry.value(knob) }

        func run(
            _ command: String, _ arguments: [String: JSONValue], as identity: Identity = .operator("alice"), reason: String
        )
            async -> CommandOutcome
        {
            await runtime.plane.execute(command, arguments, context: CommandContext(identity: identity, reason: reason))
        }

        func entries(reason: String) -> [AuditEntry] { runtime.plane.audit.entries { $0.reason == reason } }
    }

    /// Instances named `NAME-TAG` (a tag per test: sessions are found by name, across every test running).
    func fleet(_ names: [String]) throws -> (FleetDatabase, [Instance]) {
        let database = try TestDatabase.make()
        let tag = database.schema.dropFirst(2)
        return (database, try names.map { try Instance("\($0)-\(tag)", database: database) })
    }

    func soleLeader(of instances: [Instance]) async -> Instance? {
        var leaders: [Instance] = []
        for instance in instances where await instance.leads { leaders.append(instance) }
        return leaders.count == 1 ? leaders[0] : nil
    }

    @Test func oneLeaderAndACommandAtAnyInstanceReachesAllOnce() async throws {
        let (database, instances) = try fleet(["a", "b", "c"])
        for instance in instances { instance.start() }
        #expect(await TestDatabase.eventually { await soleLeader(of: instances) != nil })
        let leader = try #require(await soleLeader(of: instances))
        let follower = instances.first { $0 !== leader }!

        // An operator's command at a follower.
        #expect(
            await follower.run("param.set", ["param": "checkout.retry.max_attempts", "value": 2], reason: "incident 7").outcome == .applied)
        #expect(await TestDatabase.eventually { instances.allSatisfy { $0.value("checkout.retry.max_attempts") == 2 } })
        for instance in instances {
            let entries = instance.entries(reason: "incident 7")
            #expect(entries.count == 1, "\(instance.name) audits the command once")
            #expect(entries.first?.actor == "operator:alice" && entries.first?.action == "param.set")
            #expect(instance === follower || entries.first?.correlationID?.hasPrefix("fleet:") == true)
            #expect(instance.runtime.plane.lastChange(of: "checkout.retry.max_attempts")?.reason == "incident 7")
        }

        // The leader's decision (a script's command in a round) reaches the followers.
        #expect(
            await leader.run("param.set", ["param": "checkout.split.canary_weight", "value": 5], as: .script("canary"), reason: "step 1")
                .outcome == .applied)
        await leader.member.roundFinished(await leader.runtime.round())
        #expect(await TestDatabase.eventually { instances.allSatisfy { $0.value("checkout.split.canary_weight") == 5 } })
        #expect(instances.allSatisfy { $0.entries(reason: "step 1").count == 1 })

        // A freeze at one instance holds everywhere, and so does lifting it.
        #expect(await follower.run("automation.freeze", [:], reason: "release day").outcome == .applied)
        #expect(await TestDatabase.eventually { instances.allSatisfy { $0.runtime.plane.frozen?.reason == "release day" } })
        #expect(await leader.run("automation.unfreeze", [:], reason: "over").outcome == .applied)
        #expect(
            await TestDatabase.eventually { instances.allSatisfy { $0.runtime.plane.frozen == nil } },
            "still frozen: \(instances.filter { $0.runtime.plane.frozen != nil }.map(\.name))")

        // /v1/fleet's body names the leader and every instance, caught up.
        #expect(
            await TestDatabase.eventually {
                let status = await follower.member.fleetStatus()
                return status["leader"].stringValue == leader.name && status["instances"].arrayValue?.count == 3
                    && status["instances"].arrayValue?.allSatisfy { $0["lag_s"].doubleValue == 0 } == true
            })
        for instance in instances { await instance.stop() }
        await TestDatabase.drop(database)
    }

    @Test func theLeaderMergesEveryInstancesCallsExactlyAndItsScriptsReadThem() async throws {
        let (database, instances) = try fleet(["a", "b", "c"])
        for instance in instances { instance.start() }
        #expect(await TestDatabase.eventually { await soleLeader(of: instances) != nil })
        let leader = try #require(await soleLeader(of: instances))
        // Each instance records calls of its own: different counts, failures and latencies.
        for (index, instance) in instances.enumerated() {
            let canary = instance.pipeline.variantWindows[1].windows
            for call in 0..<(100 * (index + 1)) {
                let outcome: Outcome = call % (index + 3) == 0 ? .failure : .success
                let latency = Int64(1_000_000 * (5 + call % 50) * (index + 1))
                instance.pipeline.windows.record(outcome, latency: latency, now: instance.pipeline.time.now())
                canary.record(outcome, latency: latency, now: instance.pipeline.time.now())
            }
        }
        func sum(_ side: StatisticsSide) -> OutcomeTotals {
            instances.reduce(.zero) { $0.adding(PipelineStatistics.local($1.pipeline, instant: 0).totals(side)) }
        }
        // Within a slice and a merge (10 s and a second), the leader's statistics are the sum, bucket for bucket.
        func merged() -> PipelineStatistics? {
            leader.member.state.withLock { $0.leaderStatistics }?.statistics(of: leader.pipeline)
        }
        #expect(await TestDatabase.eventually(30) { merged()?.totals(.live) == sum(.live) })
        #expect(merged()?.totals(.variant("canary")) == sum(.variant("canary")))
        #expect(merged()?.totals(.live).count(.success) == 600 - 34 - 50 - 60)
        // Its scripts read them: state.fleet counts the three instances, the windows hold everyone's calls.
        let rule = """
            return { interval = "1s", evaluate = function(state, memory)
              local checkout = state.pipelines.checkout
              sentinel.log("info", string.format("instances=%d calls=%d each=%d", state.fleet.instances,
                checkout.windows["15m"].calls, #(function() local n = {} for id in pairs(checkout.instances) do n[#n + 1] = id end return n end)()))
            end }
            """
        _ = try await leader.runtime.engine.load(path: "p/fleet.lua", source: rule).get()
        // Due an interval after loading.
        let round = await leader.runtime.engine.tick(at: leader.runtime.plane.time.now() + 2_000_000_000)
        #expect(round.logs.map(\.line.message) == ["instances=3 calls=600 each=3"])
        #expect(leader.member.state.withLock { $0.scriptView(instance: leader.name, activeWithin: 10) }["absent"] == .array([]))

        // The leader stops; the next one reads the slices back before its scripts see a merge: the same sums.
        let origin = try #require(merged()?.origin)
        await leader.stop()
        let rest = instances.filter { $0 !== leader }
        #expect(await TestDatabase.eventually { await soleLeader(of: rest) != nil })
        let next = try #require(await soleLeader(of: rest))
        func nextMerged() -> PipelineStatistics? {
            next.member.state.withLock { $0.leaderStatistics }?.statistics(of: next.pipeline)
        }
        #expect(await TestDatabase.eventually { nextMerged()?.totals(.live) == sum(.live) })
        #expect(nextMerged()?.totals(.variant("canary")) == sum(.variant("canary")))
        #expect(nextMerged()?.origin != origin, "another merge: marks taken on the last one do not apply")
        for instance in rest { await instance.stop() }
        await TestDatabase.drop(database)
    }

    @Test func aNewLeaderContinuesWhereTheLastStoodWithItsScriptsMemory() async throws {
        let (database, instances) = try fleet(["a", "b"])
        let source = """
            return { name = "steps", interval = "1s", evaluate = function(state, memory)
              memory.step = (memory.step or 0) + 1
              memory.began = memory.began or sentinel.time()
            end }
            """
        for instance in instances { _ = try await instance.runtime.engine.load(path: "steps.lua", source: source).get() }
        for instance in instances { instance.start() }
        #expect(await TestDatabase.eventually { await soleLeader(of: instances) != nil })
        let first = try #require(await soleLeader(of: instances))
        let second = instances.first { $0 !== first }!
        let start = first.runtime.plane.time.now()
        for step in 1...3 {
            let round = await first.runtime.round(at: start + Int64(step) * 2_000_000_000)
            await first.member.roundFinished(round)
        }
        let memory = await first.runtime.engine.memories().values["steps"]
        #expect(memory?["step"] == 3)
        #expect(await TestDatabase.eventually { second.member.state.withLock { $0.known.values["memory/steps"] } == memory })
        // The leader stops (its lease is handed back): the other leads, with the next term and the last memory.
        await first.stop()
        #expect(await TestDatabase.eventually { await second.leads })
        #expect(second.member.state.withLock { $0.term } == 2)
        #expect(await second.runtime.engine.memories().values["steps"] == memory)
        #expect(second.runtime.plane.audit.entries { $0.action == "fleet.lead" }.count == 1)
        await second.stop()
        await TestDatabase.drop(database)
    }

    @Test func anInstanceWhoseSessionsAreTerminatedCatchesUp() async throws {
        let (database, instances) = try fleet(["a", "b"])
        for instance in instances { instance.start() }
        #expect(await TestDatabase.eventually { await soleLeader(of: instances) != nil })
        let leader = try #require(await soleLeader(of: instances))
        let follower = instances.first { $0 !== leader }!
        let admin = try await TestDatabase.session(database)
        // Every session of the follower ends, as an administrator's pg_terminate_backend would end it.
        try await admin.connection.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE \("sentinel:\(follower.name):%")",
            logger: TestDatabase.logger)
        #expect(
            await leader.run("param.set", ["param": "checkout.timeout.duration", "value": 0.25], reason: "meanwhile").outcome == .applied)
        #expect(await TestDatabase.eventually { follower.value("checkout.timeout.duration") == 0.25 })
        #expect(await TestDatabase.eventually { follower.member.fleetSummary()["connected"] == true })
        #expect(follower.entries(reason: "meanwhile").count == 1)
        // Its own command while it was away (it keeps its values and writes its decisions once back).
        try await admin.connection.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE \("sentinel:\(follower.name):%")",
            logger: TestDatabase.logger)
        #expect(
            await follower.run("param.set", ["param": "checkout.retry.max_attempts", "value": 1], reason: "while away").outcome == .applied)
        #expect(await TestDatabase.eventually { leader.value("checkout.retry.max_attempts") == 1 })
        #expect(leader.entries(reason: "while away").count == 1 && follower.entries(reason: "while away").count == 1)
        await admin.close()
        for instance in instances { await instance.stop() }
        await TestDatabase.drop(database)
    }

    /// An operator's command at an instance that has not read the fleet's
    /// state yet (its sessions wait for the migration lock) is newer than what
    /// it then reads: it keeps its value and writes it, and is not taken for the fleet's.
    @Test func aCommandBeforeAnInstancesFirstReadReachesTheFleet() async throws {
        let (database, instances) = try fleet(["a", "b"])
        let (first, late) = (instances[0], instances[1])
        first.start()
        #expect(await TestDatabase.eventually { await first.leads })
        #expect(await first.run("param.set", ["param": "checkout.retry.max_attempts", "value": 2], reason: "before").outcome == .applied)
        #expect(await TestDatabase.eventually { first.member.state.withLock { $0.pendingAudit.isEmpty && $0.appliedVersion > 0 } })
        // Held in a transaction of the test's: every session of `late` waits for it in its first step.
        let blocker = try await TestDatabase.session(database, name: "sentinel:blocker")
        try await blocker.connection.query("BEGIN", logger: TestDatabase.logger)
        let key = FleetSchema.key(database.schema)
        try await blocker.connection.query(
            "SELECT pg_advisory_xact_lock(\(FleetSchema.migrationLock), \(key))", logger: TestDatabase.logger)
        late.start()
        // Until its sessions can read, `late` only collects its decisions: given again until one is collected
        // (its collecting starts with it, a moment after `start`).
        var collected = false
        for _ in 0..<50 where !collected {
            #expect(
                await late.run("param.set", ["param": "checkout.retry.max_attempts", "value": 1], reason: "early").outcome == .applied)
            collected = await TestDatabase.eventually(0.2) { late.member.state.withLock { !$0.pendingAudit.isEmpty } }
        }
        #expect(collected)
        #expect(late.member.state.withLock { $0.appliedVersion } == 0, "read nothing yet")
        try await blocker.connection.query("COMMIT", logger: TestDatabase.logger)
        // The fleet held 2; the command given at `late` before it read is the newer decision: everyone ends at 1.
        #expect(await TestDatabase.eventually { first.value("checkout.retry.max_attempts") == 1 })
        #expect(late.value("checkout.retry.max_attempts") == 1)
        #expect(!first.entries(reason: "early").isEmpty)
        await blocker.close()
        for instance in instances { await instance.stop() }
        await TestDatabase.drop(database)
    }

    @Test func aRoundOfAnEndedTermIsRefusedButOperatorsCommandsStillReachTheFleet() async throws {
        let (database, instances) = try fleet(["a", "b"])
        for instance in instances { instance.start() }
        #expect(await TestDatabase.eventually { await soleLeader(of: instances) != nil })
        let leader = try #require(await soleLeader(of: instances))
        let follower = instances.first { $0 !== leader }!
        // A round begins; meanwhile another leader is elected (here written by hand: a new term, a long lease).
        #expect(await leader.member.mayDecide())
        let admin = try await TestDatabase.session(database)
        try await admin.connection.query(
            "UPDATE sentinel_fleet SET term = term + 1, leader = 'intruder', lease_until = now() + interval '1 hour' WHERE id = 1",
            logger: TestDatabase.logger)
        #expect(
            await leader.run(
                "param.set", ["param": "checkout.split.canary_weight", "value": 7], as: .script("canary"), reason: "late step"
            )
            .outcome == .applied)
        await leader.member.roundFinished(await leader.runtime.round())
        // An operator acts at the deposed leader.
        #expect(await TestDatabase.eventually { await !leader.leads })
        #expect(
            await leader.run("param.set", ["param": "checkout.retry.max_attempts", "value": 1], reason: "meanwhile").outcome == .applied)
        // The round's decision is refused and undone where it was made; the operator's command reaches the fleet.
        #expect(await TestDatabase.eventually { follower.value("checkout.retry.max_attempts") == 1 })
        #expect(await TestDatabase.eventually { leader.value("checkout.split.canary_weight") == 0 })
        #expect(follower.value("checkout.split.canary_weight") == 0)
        #expect(follower.entries(reason: "meanwhile").count == 1 && follower.entries(reason: "late step").isEmpty)
        #expect(leader.runtime.plane.audit.entries { $0.action == "fleet.follow" }.count >= 1)
        await admin.close()
        for instance in instances { await instance.stop() }
        await TestDatabase.drop(database)
    }
}
