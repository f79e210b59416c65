import Resilience
import Sentinel

/// A scenario's `fleet`: instances that share a store as `sentinel run
/// --fleet` shares PostgreSQL. The leader alone evaluates scripts and trials,
/// on the statistics merged from every instance's slices; each decision is
/// written to the store's desired state and applied by the others at the
/// same virtual instant; a leader that dies is followed by the first
/// instance alive once its lease ran out, which takes the scripts' memory
/// and rebuilds the merge from the slices stored.
extension Simulation {
    /// Whether scripts and trials run now: always without a fleet; in one, while it has a leader.
    var mayDecide: Bool { fleet.map { $0.leader != nil } ?? true }

    /// The term whose ticks count (0 without a fleet): a dead leader's ticks are dropped.
    var decidingTerm: UInt32 { UInt32(truncatingIfNeeded: fleet?.term ?? 0) }

    /// The fleet's clock, Unix seconds: the scenario's `start` plus virtual time.
    private var fleetSeconds: @Sendable () -> Double {
        let clock = self.clock, start = startNanoseconds
        return {
            let offset = clock.now.offset.components
            // Whole nanoseconds added first: one rounding, the same instants the slices were cut at.
            return Double(start + offset.seconds * 1_000_000_000 + offset.attoseconds / 1_000_000_000) / 1e9
        }
    }

    private static let sliceNanoseconds = FleetClock.sliceSeconds * 1_000_000_000
    /// Slices the store keeps: the longest window's 90 and a few more.
    private static let keptSlices: Int64 = 100
    private var startNanoseconds: Int64 { Int64((scenario.start * 1e9).rounded()) }

    /// The first instance leads from the start, its decisions' baseline is what every instance holds.
    func startFleet(_ emit: (SimulationEvent) -> Void) async {
        guard fleet != nil else { return }
        for instance in instances { await instance.readFleetStatistics(view: fleetView) }
        fleet?.desired = await instances[0].runtime.desiredState(memory: true)
        await lead(0, now: 0, emit)
    }

    func scheduleFirstSlice(_ driver: inout CallDriver) {
        guard fleet != nil else { return }
        let next = startNanoseconds / Self.sliceNanoseconds + 1
        let at = next * Self.sliceNanoseconds - startNanoseconds
        if at <= end { driver.queue.schedule(.fleetSlice, at: at, a: Int32(next)) }
    }

    /// Slice `boundary - 1` ended: every instance alive writes what it recorded in it.
    func publishSlice(_ boundary: Int64, now: Int64, _ driver: inout CallDriver) {
        // Taken out while it grows: appending to a copy would copy every stored slice, every slice.
        guard var store = fleet.take() else { return }
        let perInstance = driver.pipelinesPerInstance
        for instance in instances where instance.alive {
            let pipelines = driver.runtimes[instance.index * perInstance..<(instance.index + 1) * perInstance].map(\.pipeline)
            let report = instance.publisher.report(slice: boundary - 1, pipelines: pipelines)
            store.slices.append((instance.name, boundary - 1, report.encoded()))
        }
        // Older slices than the longest window and a few more are not read again (the real member prunes too).
        if let keep = store.slices.firstIndex(where: { $0.slice > boundary - 1 - Self.keptSlices }), keep > 0 {
            store.slices.removeFirst(keep)
            store.merged = max(0, store.merged - keep)
        }
        fleet = store
        // The leader's merge takes the slice once its grace is over (a millisecond later), as on PostgreSQL.
        let at = now + Int64(FleetStatistics.grace * 1e9) + 1_000_000
        if at <= end { driver.queue.schedule(.fleetMerge, at: at) }
        if now + Self.sliceNanoseconds <= end {
            driver.queue.schedule(.fleetSlice, at: now + Self.sliceNanoseconds, a: Int32(boundary + 1))
        }
    }

    /// The leader reads the slices written since it last did and merges them.
    func mergeSlices(now: Int64, _ emit: (SimulationEvent) -> Void) {
        guard let store = fleet, let leader = store.leader, let merged = instances[leader].merged.withLock({ $0 }) else { return }
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
        merge(store.slices[store.merged...], into: merged, now: now, emit)
        fleet?.merged = store.slices.count
        updateFleetView()
    }

    private func merge(
        _ rows: ArraySlice<(instance: String, slice: Int64, bytes: [UInt8])>, into merged: FleetStatistics, now: Int64,
        _ emit: (SimulationEvent) -> Void
    ) {
        for row in rows {
            do {
                merged.merge(try SliceReport(decoding: row.bytes))
            } catch {
                let message = "\(row.instance)'s slice \(row.slice) does not decode: \(error)"
                runErrors.append(message)
                emit(SimulationEvent(type: "error", t: Double(now) / 1e9, fields: ["message": .string(message)]))
            }
        }
        merged.advance()
        merged.forgetLongAbsent()
    }

    /// `state.fleet`: `{ instances, leader, term }`, and once the leader merged a slice, `absent` and `slice`.
    func updateFleetView() {
        guard let store = fleet else { return }
        var view: [String: JSONValue] = [
            "instances": .int(Int64(instances.filter(\.alive).count)),
            "leader": store.leader.map { .string(instances[$0].name) } ?? .null, "term": .int(store.term),
        ]
        if let leader = store.leader, let merged = instances[leader].merged.withLock({ $0 }), let reading = merged.readingSlice {
            view["instances"] = .int(Int64(merged.reporting().count))
            view["absent"] = .array(merged.absent().map { .string($0) })
            view["slice"] = .int(reading)
        }
        fleetView.withLock { $0 = view }
    }

    /// Instance `index` leads a new term: it takes the scripts' memory from
    /// the desired state and rebuilds the merge from the slices stored.
    private func lead(_ index: Int, now: Int64, _ emit: (SimulationEvent) -> Void) async {
        guard var store = fleet else { return }
        store.term += 1
        store.leader = index
        current = index
        let instance = instances[index]
        let memories = store.desired.values.filter { $0.key.hasPrefix(DesiredState.memoryPrefix) }
        for problem in await instance.runtime.applyReplicated(memories.mapValues { $0 }, memory: true) {
            runErrors.append("\(instance.name) taking over: \(problem)")
        }
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
        let merged = FleetStatistics(clock: fleetSeconds)
        // The last 90 slices (the longest window): those the merge keeps.
        let oldest = (store.slices.last?.slice ?? 0) - 89
        merge(store.slices.filter { $0.slice >= oldest }[...], into: merged, now: now, emit)
        store.merged = store.slices.count
        fleet = store
        instance.merged.withLock { $0 = merged }
        updateFleetView()
        instance.runtime.plane.audit.append(
            AuditEntry(
                time: instance.runtime.plane.now, actor: "sentinel", action: "fleet.lead", target: instance.name,
                args: ["term": .int(store.term), "version": .int(store.version)], outcome: .applied,
                reason: "leads the fleet from version \(store.version) with \(memories.count) scripts' memory"))
        emitAudit(at: now, emit)
    }

    /// A dead leader's lease ran out: the first instance alive leads.
    func elect(now: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) async {
        guard let store = fleet, store.leader == nil, let next = instances.first(where: \.alive) else { return }
        await lead(next.index, now: now, emit)
        scheduledTrialTick = nil
        if let due = await engine.nextDue { driver.queue.schedule(.scriptTick, at: max(due, now), token: decidingTerm) }
        scheduleTrialTick(now: now, &driver)
    }

    /// A `kill` event: the instance stops at once (its slice under way is lost,
    /// its calls go to the others); a dead leader is followed after its lease.
    func kill(_ target: Int?, now: Int64, _ driver: inout CallDriver, _ emit: (SimulationEvent) -> Void) {
        guard var store = fleet else { return }
        let t = Double(now) / 1e9
        guard let index = target ?? store.leader, instances[index].alive else {
            let what = target.map { "\(FleetSpec.name(of: $0)) is dead already" } ?? "the fleet has no leader now"
            emit(SimulationEvent(type: "event", t: t, fields: ["what": "kill", "target": .null, "outcome": .string(what)]))
            return
        }
        let instance = instances[index]
        instance.alive = false
        driver.alive.removeAll { $0 == index }
        store.killed.append(instance.name)
        let wasLeader = store.leader == index
        emit(
            SimulationEvent(
                type: "event", t: t,
                fields: ["what": "kill", "target": .string(instance.name), "leader": .bool(wasLeader), "outcome": "killed"]))
        if wasLeader {
            store.leader = nil
            instance.merged.withLock { $0 = nil }
            let at = now + Int64((store.lease * 1e9).rounded())
            if at <= end { driver.queue.schedule(.fleetElection, at: at) }
        }
        // Without a leader, commands go to the first instance alive.
        if store.leader == nil, let next = instances.first(where: \.alive) { current = next.index }
        fleet = store
        updateFleetView()
    }

    /// Writes what the deciding instance holds to the store's desired state
    /// and applies the change on every other instance alive (the leader's
    /// scripts' memory is stored, not applied: followers' scripts do not run).
    func replicate(now: Int64, _ emit: (SimulationEvent) -> Void) async {
        guard let store = fleet else { return }
        let source = instances[current]
        let leads = store.leader == current
        let held = await source.runtime.desiredState(memory: leads)
        let baseline =
            leads ? store.desired : DesiredState(store.desired.values.filter { !$0.key.hasPrefix(DesiredState.memoryPrefix) })
        let changes = held.changes(from: baseline)
        guard !changes.isEmpty else { return }
        fleet?.desired = store.desired.applying(changes)
        fleet?.version += 1
        let applied = changes.filter { !$0.key.hasPrefix(DesiredState.memoryPrefix) }
        guard !applied.isEmpty else { return }
        for instance in instances where instance.alive && instance.index != current {
            for problem in await instance.runtime.applyReplicated(applied, memory: false) {
                let message = "\(instance.name) applying the desired state: \(problem)"
                runErrors.append(message)
                emit(SimulationEvent(type: "error", t: Double(now) / 1e9, fields: ["message": .string(message)]))
            }
        }
    }
}
