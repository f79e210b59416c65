import Logging
import PostgresNIO
import Sentinel

/// One connection to the fleet's database and the queries an instance runs
/// on it. Not shared between tasks: an instance has one for leadership (the
/// advisory lock lives and dies with it) and one for everything else.
struct FleetSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The advisory locks' second key: this fleet's schema.
    let schemaKey: Int32

    static func connect(_ database: FleetDatabase, name: String, id: Int, logger: Logger) async throws -> FleetSession {
        let connection = try await PostgresConnection.connect(
            configuration: try database.connectionConfiguration(applicationName: name), id: id, logger: logger)
        return FleetSession(connection: connection, logger: logger, schemaKey: FleetSchema.key(database.schema))
    }

    func close() async {
        try? await connection.close()
    }

    /// The longest one call may take before the session is given up.
    static let callTimeout: Duration = .seconds(10)

    /// Runs `call` on this session, or gives the session up (closes it and
    /// throws) when it is closed or does not answer within ``callTimeout``: a
    /// query sent on a connection that closed under it may never answer.
    func bounded<Value: Sendable>(_ call: @escaping @Sendable (FleetSession) async throws -> Value) async throws -> Value {
        guard !connection.isClosed else { throw ConnectionClosed() }
        return try await withDeadline(Self.callTimeout, onTimeout: { await self.close() }) { try await call(self) }
    }

    // MARK: - Leadership (on the leadership session)

    /// Takes the leader's advisory lock if it is free and starts a new term.
    /// Returns the term, or nil when another session holds the lock.
    func tryLead(instance: String, lease: Duration) async throws -> Int64? {
        var locked = false
        for try await value in try await connection.query(
            "SELECT pg_try_advisory_lock(\(FleetSchema.leaderLock), \(schemaKey))", logger: logger
        ).decode(Bool.self) {
            locked = value
        }
        guard locked else { return nil }
        // The lock alone is not enough: a leader whose session the server ended (a restart, a terminated
        // backend) may not know yet and decides until its lease runs out. A new term starts only once that
        // lease ran out (or was handed back); until then the lock is kept and the next try looks again.
        var term: Int64?
        for try await value in try await connection.query(
            """
            UPDATE sentinel_fleet SET term = term + 1, leader = \(instance), leader_pid = pg_backend_pid(),
                lease_until = statement_timestamp() + make_interval(secs => \(lease.seconds))
            WHERE id = 1 AND (lease_until IS NULL OR lease_until < statement_timestamp() OR leader = \(instance))
            RETURNING term
            """, logger: logger
        ).decode(Int64.self) {
            term = value
        }
        return term
    }

    /// Ends the session that holds the leader's lock when its lease ran out:
    /// a leader that is connected but hung loses the lock with its session.
    /// Returns whether one was ended.
    func endExpiredLeader() async throws -> Bool {
        // The fleet's row is locked first: a renewal or a new term that commits meanwhile is seen by the
        // re-check (or waits, and finds its session ended), never overtaken. Only the session of the leader
        // named in the row is ended: a candidate that holds the lock while it waits for the lease, or has
        // not written its term yet, is not that leader.
        try await connection.withTransaction(logger: logger) { connection in
            var expired = false
            for try await value in try await connection.query(
                """
                SELECT lease_until IS NULL OR lease_until < statement_timestamp() FROM sentinel_fleet WHERE id = 1 FOR UPDATE
                """, logger: logger
            ).decode(Bool.self) {
                expired = value
            }
            guard expired else { return false }
            var ended = false
            for try await value in try await connection.query(
                """
                SELECT pg_terminate_backend(l.pid, 1000) FROM pg_locks l, sentinel_fleet f
                WHERE f.id = 1 AND l.pid = f.leader_pid
                  AND l.locktype = 'advisory' AND l.classid::bigint = \(Int64(FleetSchema.leaderLock))
                  AND l.objid::bigint = \(Int64(schemaKey)) AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.granted AND l.pid <> pg_backend_pid()
                """, logger: logger
            ).decode(Bool.self) {
                ended = ended || value
            }
            return ended
        }
    }

    /// Extends the lease of `term`; false when the term is over.
    func renew(instance: String, term: Int64, lease: Duration) async throws -> Bool {
        var renewed = false
        for try await _ in try await connection.query(
            """
            UPDATE sentinel_fleet SET lease_until = now() + make_interval(secs => \(lease.seconds))
            WHERE id = 1 AND term = \(term) AND leader = \(instance) AND lease_until > statement_timestamp() RETURNING term
            """, logger: logger
        ).decode(Int64.self) {
            renewed = true
        }
        return renewed
    }

    /// Gives leadership up at once (a graceful stop): the next instance need not wait for the lease.
    func resign(instance: String, term: Int64) async throws {
        try await connection.query(
            "UPDATE sentinel_fleet SET lease_until = now(), leader_pid = NULL WHERE id = 1 AND term = \(term) AND leader = \(instance)",
            logger: logger)
        try await connection.query("SELECT pg_advisory_unlock(\(FleetSchema.leaderLock), \(schemaKey))", logger: logger)
    }

    // MARK: - Desired state (on the data session)

    /// Writes `changeSet` under the next version, in one transaction that
    /// first locks the fleet's row: versions commit in order, so a reader
    /// that saw version N has seen every version below it. With `term` (a
    /// leader's write) the write is refused unless that term still leads
    /// with a lease that has not run out (the fencing token).
    func write(_ changeSet: FleetChangeSet, instance: String, term: Int64?) async throws -> Int64 {
        let values = JSONValue.object(changeSet.changes.mapValues { $0 ?? .null }).jsonString()
        let audit = JSONValue.array(changeSet.audit.map(\.jsonValue)).jsonString()
        let keys = changeSet.changes.keys.sorted()
        return try await connection.withTransaction(logger: logger) { connection in
            var current: (term: Int64, leader: String?, valid: Bool)?
            for try await row in try await connection.query(
                "SELECT term, leader, coalesce(lease_until > statement_timestamp(), false) FROM sentinel_fleet WHERE id = 1 FOR UPDATE",
                logger: logger
            ).decode((Int64, String?, Bool).self) {
                current = (row.0, row.1, row.2)
            }
            guard let current else { throw FleetError.fenced(term: term ?? 0, current: 0, leader: nil) }
            if let term, current.term != term || current.leader != instance || !current.valid {
                throw FleetError.fenced(term: term, current: current.term, leader: current.leader)
            }
            var version: Int64 = 0
            for try await value in try await connection.query(
                "UPDATE sentinel_fleet SET version = version + 1 WHERE id = 1 RETURNING version", logger: logger
            ).decode(Int64.self) {
                version = value
            }
            if !keys.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO sentinel_desired (key, value, version)
                    SELECT key, value, \(version) FROM jsonb_each(\(values)::jsonb)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version
                    """, logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO sentinel_changes (version, term, instance, by_leader, keys, audit)
                VALUES (\(version), \(current.term), \(instance), \(term != nil), \(keys), \(audit)::jsonb)
                """, logger: logger)
            try await connection.query("SELECT pg_notify(\(FleetSchema.channel), \(String(version)))", logger: logger)
            return version
        }
    }

    /// Everything written after `version`, and the audit of the versions
    /// after `auditAfter` (those not audited here yet), from one snapshot.
    func read(after version: Int64, auditAfter: Int64 = 0) async throws -> FleetUpdate {
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        do {
            var update = FleetUpdate(version: 0, term: 0, rows: [], changeSets: [])
            for try await (current, term) in try await connection.query(
                "SELECT version, term FROM sentinel_fleet WHERE id = 1", logger: logger
            ).decode((Int64, Int64).self) {
                update.version = current
                update.term = term
            }
            let parser = JSONParser()
            for try await (key, text, written) in try await connection.query(
                "SELECT key, value::text, version FROM sentinel_desired WHERE version > \(version) ORDER BY version, key",
                logger: logger
            ).decode((String, String, Int64).self) {
                let value = try parser.parse(text)
                // JSON null marks a removed key (JSONValue is nil-literal-expressible: spell the Optional out).
                update.rows.append((key, value == .null ? JSONValue?.none : .some(value), written))
            }
            for try await (written, instance, text) in try await connection.query(
                "SELECT version, instance, audit::text FROM sentinel_changes WHERE version > \(max(version, auditAfter)) ORDER BY version",
                logger: logger
            ).decode((Int64, String, String).self) {
                let entries = (try parser.parse(text).arrayValue ?? []).compactMap { try? AuditEntry(jsonObject: $0) }
                update.changeSets.append((written, instance, entries))
            }
            try await connection.query("COMMIT", logger: logger)
            return update
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// Where this instance stands, for `fleet status` and for the leader's count of instances.
    func heartbeat(_ report: InstanceReport) async throws {
        try await connection.query(
            """
            INSERT INTO sentinel_instances (id, applied_version, role, scripts_hash, config_hash, started_at, last_seen)
            VALUES (\(report.instance), \(report.appliedVersion), \(report.role), \(report.scriptsHash), \(report.configHash), now(), now())
            ON CONFLICT (id) DO UPDATE SET applied_version = excluded.applied_version, role = excluded.role,
                scripts_hash = excluded.scripts_hash, config_hash = excluded.config_hash, last_seen = now()
            """, logger: logger)
    }

    /// The version this instance last reported applied (its audit went that far); for a new one, the fleet's
    /// version now (it applies the state, and audits what is decided from then on).
    func reportedVersion(of instance: String) async throws -> Int64 {
        var version: Int64 = 0
        for try await value in try await connection.query(
            """
            SELECT coalesce((SELECT applied_version FROM sentinel_instances WHERE id = \(instance)),
                (SELECT version FROM sentinel_fleet WHERE id = 1))
            """, logger: logger
        ).decode(Int64.self) {
            version = value
        }
        return version
    }

    /// The fleet as `GET /v1/fleet` shows it.
    func status() async throws -> FleetStatus {
        var status = FleetStatus(leader: nil, term: 0, version: 0, leaseValid: false, instances: [])
        for try await (leader, term, version, valid) in try await connection.query(
            "SELECT leader, term, version, coalesce(lease_until > now(), false) FROM sentinel_fleet WHERE id = 1",
            logger: logger
        ).decode((String?, Int64, Int64, Bool).self) {
            status.leader = leader
            status.term = term
            status.version = version
            status.leaseValid = valid
        }
        for try await row in try await connection.query(
            """
            SELECT i.id, i.applied_version, i.role, i.scripts_hash, i.config_hash,
                extract(epoch FROM i.last_seen)::float8, extract(epoch FROM now() - i.last_seen)::float8,
                coalesce(extract(epoch FROM now() - (
                    SELECT c.created_at FROM sentinel_changes c WHERE c.version > i.applied_version ORDER BY c.version LIMIT 1)), 0)::float8
            FROM sentinel_instances i ORDER BY i.id
            """, logger: logger
        ).decode((String, Int64, String, String, String, Double, Double, Double).self) {
            status.instances.append(
                FleetStatus.Instance(
                    id: row.0, appliedVersion: row.1, role: row.2, scriptsHash: row.3, configHash: row.4, lastSeen: row.5,
                    silentFor: row.6, lag: row.7))
        }
        return status
    }

    /// Forgets instances silent for longer than `silent`, and audit older than
    /// `age` beyond the newest `keep` versions (the leader's housekeeping).
    func prune(silentFor silent: Duration, changesOlderThan age: Duration, keepChanges keep: Int64) async throws {
        try await connection.query(
            "DELETE FROM sentinel_instances WHERE last_seen < now() - make_interval(secs => \(silent.seconds))", logger: logger)
        try await connection.query(
            """
            DELETE FROM sentinel_changes WHERE created_at < now() - make_interval(secs => \(age.seconds))
              AND version < (SELECT version FROM sentinel_fleet WHERE id = 1) - \(keep)
            """, logger: logger)
    }
}

/// One instance's heartbeat.
struct InstanceReport: Sendable {
    var instance: String
    var appliedVersion: Int64
    var role: String
    var scriptsHash: String
    var configHash: String
}

extension Duration {
    /// Seconds as a Double, for SQL intervals.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
