import Logging
import PostgresNIO
import Sentinel

/// Replication: this instance writes its own decisions as desired state, and
/// applies every version written after the one it applied, on a doorbell
/// (NOTIFY), on reconnect and on a timer.
extension FleetMember {
    /// Connects, listens, and serves until cancelled; on a lost connection it
    /// keeps its last values (fail static), reconnects with backoff, listens
    /// again and then reads (so nothing written meanwhile is missed).
    func replicate() async {
        var wait = configuration.reconnectFirst
        while !Task.isCancelled {
            do {
                let session = try await FleetSession.connect(
                    database, name: "sentinel:\(configuration.instance):data", id: 1, logger: logger)
                wait = configuration.reconnectFirst
                do {
                    let schema = database.schema
                    try await session.bounded { try await FleetSchema.migrate($0.connection, schema: schema, logger: $0.logger) }
                    try await session.connection.listen(on: FleetSchema.channel) { notifications in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await _ in notifications { self.doorbell.ring() }
                                // Ended by cancellation (a stop) is no lost connection.
                                if !Task.isCancelled { throw ConnectionClosed() }
                            }
                            group.addTask { try await self.serve(on: session) }
                            try await group.next()
                            group.cancelAll()
                        }
                    }
                } catch  where !Task.isCancelled {
                    await session.close()
                    throw error
                } catch {
                    // Stopping: handled below.
                }
                await writeLastDecisions(on: session)
                await session.close()
            } catch {
                disconnected(because: String(reflecting: error))
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, configuration.reconnectLongest)
            }
        }
    }

    /// On a stop: the sentinel's and the operators' last decisions go out
    /// (outside the stopping task, whose cancellation would end the write at
    /// once), then the leadership loop may hand its lease back.
    private func writeLastDecisions(on session: FleetSession) async {
        await Task {
            do { try await self.publish(on: session) } catch {
                self.logger.warning("fleet: the last decisions could not be written: \(String(reflecting: error))")
            }
            self.lastDecisionsWritten.ring()
        }.value
    }

    /// Reads, writes and reports while connected; returns when cancelled.
    private func serve(on session: FleetSession) async throws {
        let auditedThrough = state.withLock { $0.auditedThrough }
        if auditedThrough == nil {
            // A new instance audits from now on, not the fleet's history (it applies the state, not its past).
            let instance = configuration.instance
            let reported = try await session.bounded { try await $0.reportedVersion(of: instance) }
            state.withLock { $0.auditedThrough = reported }
        }
        let wasDisconnected = state.withLock { state -> ContinuousClock.Instant? in
            defer {
                state.connected = true
                state.disconnectedSince = nil
            }
            return state.disconnectedSince
        }
        metrics.connected.record(1)
        if let since = wasDisconnected {
            logger.notice("fleet: connected to the database again after \(since.duration(to: clock.now)); catching up")
        }
        var lastHousekeeping: ContinuousClock.Instant?
        var lastReport: ContinuousClock.Instant?
        while !Task.isCancelled {
            // A first read sets the baseline before anything is written; after that, what this instance decided
            // (while connected or not) is written before it reads what others wrote.
            if !state.withLock({ $0.resync }) { try await publish(on: session) }
            let (after, auditAfter) = state.withLock { ($0.resync ? 0 : $0.appliedVersion, $0.auditedThrough ?? 0) }
            let audited = try await apply(try await session.bounded { try await $0.read(after: after, auditAfter: auditAfter) })
            try await takeOverIfElected()
            // Right after auditing: the version reported is where a restart resumes auditing.
            if audited > 0 || reportDue(after: lastReport) {
                lastReport = clock.now
                try await report(on: session)
            }
            if state.withLock({ $0.term != nil }),
                lastHousekeeping.map({ $0.duration(to: clock.now) > .seconds(3600) }) ?? true
            {
                lastHousekeeping = clock.now
                try await session.bounded {
                    try await $0.prune(silentFor: .seconds(86400), changesOlderThan: .seconds(7 * 86400), keepChanges: 100_000)
                }
            }
            await doorbell.wait(timeout: configuration.pollEvery)
        }
    }

    /// Writes what changed here since the last write: an operator's command
    /// at this instance, or the leader's round. A leader's write is fenced by
    /// the term it decided in.
    func publish(on session: FleetSession) async throws {
        let now = clock.now
        let (fenceTerm, withMemory) = state.withLock { state -> (Int64?, Bool) in
            let term = state.decidingTerm ?? state.decidedTerm ?? (state.leads(at: now) ? state.term : nil)
            return (term, term != nil)
        }
        let entries = state.withLock { state -> [AuditEntry] in
            defer { state.pendingAudit.removeAll() }
            return state.pendingAudit
        }
        let current = await runtime.desiredState(memory: withMemory)
        let known = state.withLock { $0.known }
        var changes = current.changes(from: known)
        if !withMemory { changes = changes.filter { !$0.key.hasPrefix(DesiredState.memoryPrefix) } }
        guard !changes.isEmpty || !entries.isEmpty else {
            // A round that changed nothing: no later write (an operator's, once this instance follows) carries its term.
            state.withLock { state in
                if state.decidingTerm == nil, state.decidedTerm == fenceTerm { state.decidedTerm = nil }
            }
            return
        }
        do {
            let (instance, changeSet) = (configuration.instance, FleetChangeSet(changes: changes, audit: entries))
            let version = try await session.bounded { try await $0.write(changeSet, instance: instance, term: fenceTerm) }
            state.withLock { state in
                state.known = state.known.applying(changes)
                state.ownVersions.insert(version)
                if state.decidedTerm == fenceTerm { state.decidedTerm = nil }
            }
            logger.debug(
                "fleet: wrote version \(version)\(fenceTerm.map { " (term \($0))" } ?? ""): \(changes.keys.sorted().joined(separator: ", ")); \(entries.count) decisions"
            )
        } catch let error as PostgresTransactionError {
            guard case .fenced(let term, let current, let leader)? = error.closureError as? FleetError else {
                state.withLock { $0.pendingAudit.insert(contentsOf: entries, at: 0) }
                throw error
            }
            // The round's decisions were made under a term that is over: refused. This instance reads everything
            // again and applies the fleet's state, except what its operators did meanwhile, written on its own.
            metrics.fenced.increment()
            let leading = state.withLock { state -> Bool in
                if state.decidedTerm == term { state.decidedTerm = nil }
                state.resync = true
                state.revertUnwritten = true
                return state.term == term
            }
            let why = "its write of term \(term) was refused: the fleet is at term \(current), led by \(leader ?? "nobody")"
            if leading {
                stopLeading(because: why)
            } else {
                logger.warning("fleet: the decisions of an earlier round were not written: \(why)")
            }
            try await publishOperators(of: entries, changes: changes, on: session)
        } catch {
            state.withLock { $0.pendingAudit.insert(contentsOf: entries, at: 0) }
            throw error
        }
    }

    /// After a refused leader's write: operators' commands among it are no
    /// leader's decisions, and are written unfenced with the keys they changed.
    private func publishOperators(of entries: [AuditEntry], changes: [String: JSONValue?], on session: FleetSession) async throws {
        let operators = entries.filter { $0.actor.hasPrefix("operator:") }
        guard !operators.isEmpty else { return }
        let keys = Set(operators.flatMap(Self.desiredKeys(changedBy:)))
        let (instance, changeSet) = (
            configuration.instance, FleetChangeSet(changes: changes.filter { keys.contains($0.key) }, audit: operators)
        )
        do {
            let version = try await session.bounded { try await $0.write(changeSet, instance: instance, term: nil) }
            state.withLock { state in
                state.known = state.known.applying(changeSet.changes)
                state.ownVersions.insert(version)
            }
        } catch {
            state.withLock { $0.pendingAudit.insert(contentsOf: operators, at: 0) }
            throw error
        }
    }

    /// The desired-state keys a command changes.
    static func desiredKeys(changedBy entry: AuditEntry) -> [String] {
        let target = entry.target ?? ""
        switch entry.action {
        case "param.set", "shadow.set", "shadow.clear", "shadow.promote": return [DesiredState.parameterPrefix + target]
        case "automation.freeze", "automation.unfreeze": return [DesiredState.freezeKey]
        case "approval.grant", "approval.deny": return [DesiredState.approvalsKey]
        case "script.pause", "script.resume": return [DesiredState.pausedPrefix + target]
        case "trial.start", "trial.abort":
            let shadows = entry.args["params"].objectValue?.keys.map { DesiredState.parameterPrefix + $0 } ?? []
            return [DesiredState.trialsKey] + shadows
        default: return []
        }
    }

    /// Applies what others wrote, as they decided it, and audits it here
    /// with their actor and reason.
    /// Returns how many entries it audited.
    @discardableResult
    private func apply(_ update: FleetUpdate) async throws -> Int {
        let (resync, revert, own, known, applied, pending) = state.withLock {
            ($0.resync, $0.revertUnwritten, $0.ownVersions, $0.known, $0.appliedVersion, $0.pendingAudit)
        }
        if !resync, update.version < applied {
            // The database went back (restored from a backup, recreated): take its state as it is now.
            logger.warning("fleet: the database is at version \(update.version), behind the \(applied) applied here: reading it all again")
            state.withLock {
                $0.resync = true
                $0.auditedThrough = update.version
            }
            return 0
        }
        // Commands applied here while this runs change `local` under it: counted, to keep them (below).
        let appliedBefore = runtime.plane.audit.count(of: .applied)
        let local = resync && !revert ? DesiredState() : await runtime.desiredState(memory: false)
        // Read again from scratch while decisions made here wait to be written (an operator's command before this
        // instance's first read): they are newer than what was read, keep their values and are written next.
        let changedHere = resync && !revert ? Set(pending.flatMap(Self.desiredKeys(changedBy:))) : []
        var readHere: [String: JSONValue?] = [:]
        var changes: [String: JSONValue?] = [:]
        var memories: [String: JSONValue?] = [:]
        for row in update.rows {
            if row.key.hasPrefix(DesiredState.memoryPrefix) {
                memories[row.key] = row.value
                continue
            }
            if !resync {
                // Already here (written by this instance), or changed here since and written next: the later write wins.
                if own.contains(row.version) || local.values[row.key] != known.values[row.key] { continue }
            } else if changedHere.contains(row.key) {
                readHere[row.key] = row.value
                continue
            }
            changes[row.key] = row.value
        }
        if revert {
            // A deposed leader's decisions on keys the fleet never wrote go back to what they were before.
            let written = Set(update.rows.map(\.key))
            for (key, value) in local.values where !written.contains(key) && !key.hasPrefix(DesiredState.memoryPrefix) {
                if let before = known.values[key], before != value { changes[key] = before }
            }
        }
        if !changes.isEmpty {
            logger.debug("fleet: applying up to version \(update.version): \(changes.keys.sorted().joined(separator: ", "))")
        }
        let problems = await runtime.applyReplicated(changes, memory: false)
        for problem in problems where state.withLock({ $0.reportedProblems.insert(problem).inserted }) {
            logger.warning("fleet: \(problem)")
        }
        var audited = 0
        for changeSet in update.changeSets where changeSet.instance != configuration.instance {
            for var entry in changeSet.audit {
                entry.correlationID = "\(MemberState.replicatedPrefix)\(changeSet.version)" + (entry.correlationID.map { ":" + $0 } ?? "")
                runtime.plane.audit.append(entry)
                audited += 1
            }
        }
        let regenerated = await runtime.desiredState(memory: false)
        // A command applied here meanwhile: the baseline takes the values as written, so that a local value that
        // differs from them is seen as a change of this instance's and written next.
        let concurrent = runtime.plane.audit.count(of: .applied) - appliedBefore > audited
        state.withLock { state in
            if resync {
                state.known = DesiredState(state.known.values.filter { $0.key.hasPrefix(DesiredState.memoryPrefix) })
                for (key, value) in regenerated.values where !changedHere.contains(key) { state.known.values[key] = value }
                // The fleet's value (none if it has none) as the baseline: the value here differs, and is written next.
                for key in changedHere { state.known.values[key] = readHere[key] ?? nil }
            }
            for key in changes.keys {
                state.known.values[key] = concurrent ? changes[key]! : regenerated.values[key]
            }
            for (key, value) in memories { state.known.values[key] = value }
            state.appliedVersion = max(resync ? 0 : state.appliedVersion, update.version)
            state.auditedThrough = max(state.auditedThrough ?? 0, update.version)
            state.lastReadTerm = update.term
            state.ownVersions = state.ownVersions.filter { $0 > update.version }
            state.resync = false
            state.revertUnwritten = false
        }
        metrics.appliedVersion.record(update.version)
        return audited
    }

    /// Whether the heartbeat is due (every second, or `pollEvery` when shorter).
    private func reportDue(after last: ContinuousClock.Instant?) -> Bool {
        guard let last else { return true }
        return last.duration(to: clock.now) >= min(.seconds(1), configuration.pollEvery)
    }

    /// An instance that was just elected takes its scripts' memory from the
    /// desired state (it read everything up to now just before): it decides
    /// from where the last leader stood.
    private func takeOverIfElected() async throws {
        let (term, ready, readTerm, memories) = state.withLock { state in
            (state.term, state.readyTerm, state.lastReadTerm, state.known.values.filter { $0.key.hasPrefix(DesiredState.memoryPrefix) })
        }
        // Only from a snapshot taken after the election: an older one may miss the last leader's last write.
        guard let term, ready != term, readTerm >= term else { return }
        let problems = await runtime.applyReplicated(memories.mapValues { $0 }, memory: true)
        for problem in problems { logger.warning("fleet: taking over: \(problem)") }
        let version = state.withLock { state -> Int64 in
            if state.term == term { state.readyTerm = term }
            return state.appliedVersion
        }
        logger.notice("fleet: \(configuration.instance) decides from version \(version), term \(term)")
        runtime.plane.audit.append(
            AuditEntry(
                time: runtime.plane.now, actor: "sentinel", action: "fleet.lead", target: configuration.instance,
                args: ["term": .int(term), "version": .int(version)], outcome: .applied,
                reason: "leads the fleet from version \(version) with \(memories.count) scripts' memory"))
    }

    /// The heartbeat, and the fleet as everyone reported it.
    private func report(on session: FleetSession) async throws {
        let now = clock.now
        let (applied, role) = state.withLock { ($0.appliedVersion, $0.leads(at: now) ? "leader" : "follower") }
        let report = InstanceReport(
            instance: configuration.instance, appliedVersion: applied, role: role,
            scriptsHash: await runtime.scriptsHash(), configHash: runtime.configHash)
        let status = try await session.bounded { session in
            try await session.heartbeat(report)
            return try await session.status()
        }
        state.withLock { $0.status = status }
        metrics.term.record(status.term)
    }

    private func disconnected(because error: String) {
        let first = state.withLock { state -> Bool in
            defer {
                state.connected = false
                if state.disconnectedSince == nil { state.disconnectedSince = clock.now }
            }
            return state.connected || state.disconnectedSince == nil
        }
        metrics.connected.record(0)
        if first {
            metrics.disconnects.increment()
            logger.error(
                "fleet: lost the database (\(error)); keeping the last applied values, reconnecting with backoff")
        }
    }
}
