import Logging
import Sentinel

/// Leadership: a session of its own holds the leader's advisory lock; a lease
/// in `sentinel_fleet` renewed within its deadline, and a term number that
/// every leader write is checked against (FleetSession.write).
extension FleetMember {
    /// Tries to lead, leads while the lease holds, and starts again on any failure.
    func lead() async {
        var wait = configuration.reconnectFirst
        while !Task.isCancelled {
            do {
                let session = try await FleetSession.connect(
                    database, name: "sentinel:\(configuration.instance):leader", id: 2, logger: logger)
                wait = configuration.reconnectFirst
                do {
                    try await leadOrWait(on: session)
                } catch  where !Task.isCancelled {
                    await session.close()
                    throw error
                } catch {
                    // Stopping: handled below.
                }
                if Task.isCancelled {
                    // A stop: hand the lease back once the last decisions are written (a resigned term's write is refused).
                    await Task {
                        await self.lastDecisionsWritten.wait(timeout: .seconds(3))
                        await self.resign(on: session)
                    }.value
                }
                await session.close()
            } catch {
                if stopLeading(because: "its session to the database failed: \(error)") == nil {
                    logger.debug("fleet: leadership session: \(String(reflecting: error))")
                }
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, configuration.reconnectLongest)
            }
        }
    }

    private func leadOrWait(on session: FleetSession) async throws {
        while !Task.isCancelled {
            let term = state.withLock { $0.term }
            if let term {
                let started = clock.now
                // A renewal that hangs ends the session (the query cannot be cancelled otherwise).
                let (instance, lease) = (configuration.instance, configuration.lease)
                guard !session.connection.isClosed else { throw ConnectionClosed() }
                let renewed = try await withDeadline(lease, onTimeout: { await session.close() }) {
                    try await session.renew(instance: instance, term: term, lease: lease)
                }
                guard renewed else {
                    stopLeading(because: "its term \(term) is over")
                    return
                }
                state.withLock { $0.leaseValidUntil = started + configuration.lease * 0.9 }
                try? await Task.sleep(for: configuration.renewEvery)
            } else {
                let started = clock.now
                let (instance, lease) = (configuration.instance, configuration.lease)
                if let term = try await session.bounded({ try await $0.tryLead(instance: instance, lease: lease) }) {
                    state.withLock { state in
                        state.term = term
                        state.leaseValidUntil = started + configuration.lease * 0.9
                        state.readyTerm = nil
                    }
                    metrics.elected.increment()
                    metrics.leader.record(1)
                    metrics.term.record(term)
                    logger.notice("fleet: \(configuration.instance) leads with term \(term); catching up before deciding")
                    // The worker catches up and takes the scripts' memory before this instance decides.
                    doorbell.ring()
                } else {
                    // A leader whose lease ran out but whose session lives on (hung): end that session.
                    if try await session.bounded({ try await $0.endExpiredLeader() }) {
                        logger.warning("fleet: the leader's lease ran out while its session lived on: that session was ended")
                    }
                    try? await Task.sleep(for: configuration.candidateEvery)
                }
            }
        }
    }

    /// A graceful stop: hand the lease back so the next leader need not wait for it to run out.
    private func resign(on session: FleetSession) async {
        guard let term = state.withLock({ $0.term }) else { return }
        stopLeading(because: "it stops")
        do {
            let instance = configuration.instance
            try await session.bounded { try await $0.resign(instance: instance, term: term) }
        } catch {
            logger.debug("fleet: resigning: \(String(describing: error))")
        }
    }

    /// Stops deciding at once; returns the term it led, if any.
    @discardableResult
    func stopLeading(because reason: String) -> Int64? {
        let term = state.withLock { state -> Int64? in
            defer { state.stopLeading() }
            return state.term
        }
        guard let term else { return nil }
        metrics.leader.record(0)
        logger.warning("fleet: \(configuration.instance) stops leading term \(term): \(reason)")
        runtime.plane.audit.append(
            AuditEntry(
                time: runtime.plane.now, actor: "sentinel", action: "fleet.follow", target: configuration.instance,
                args: ["term": .int(term)], outcome: .applied, reason: "stopped leading: \(reason)"))
        return term
    }
}
