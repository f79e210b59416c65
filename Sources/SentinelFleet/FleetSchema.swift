import Logging
import PostgresNIO

/// The fleet's tables, created and migrated on start, idempotently, under an
/// advisory lock (two instances starting at once migrate once), with the
/// versions applied in `sentinel_schema`. docs/fleet.md shows the schema.
enum FleetSchema {
    /// Advisory locks take two keys: the lock's kind, and the schema's hash (one fleet per schema).
    static let migrationLock: Int32 = 0x5E16
    static let leaderLock: Int32 = 0x5E17

    /// A schema's key in the advisory locks: a positive 31-bit FNV-1a of its name.
    static func key(_ schema: String) -> Int32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in schema.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return Int32(bitPattern: hash & 0x7fff_ffff)
    }
    /// The NOTIFY channel: a doorbell, its payload never trusted.
    static let channel = "sentinel_fleet"

    /// Each migration's statements, in order; migration N is `migrations[N - 1]`.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE sentinel_fleet (
                id integer PRIMARY KEY CHECK (id = 1),
                term bigint NOT NULL DEFAULT 0,
                leader text,
                leader_pid integer,
                lease_until timestamptz,
                version bigint NOT NULL DEFAULT 0
            )
            """,
            "INSERT INTO sentinel_fleet (id) VALUES (1)",
            """
            CREATE TABLE sentinel_desired (
                key text PRIMARY KEY,
                value jsonb NOT NULL,
                version bigint NOT NULL
            )
            """,
            "CREATE INDEX sentinel_desired_version ON sentinel_desired (version)",
            """
            CREATE TABLE sentinel_changes (
                version bigint PRIMARY KEY,
                term bigint NOT NULL,
                instance text NOT NULL,
                by_leader boolean NOT NULL,
                keys text[] NOT NULL,
                audit jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE sentinel_instances (
                id text PRIMARY KEY,
                applied_version bigint NOT NULL DEFAULT 0,
                role text NOT NULL DEFAULT 'follower',
                scripts_hash text NOT NULL DEFAULT '',
                config_hash text NOT NULL DEFAULT '',
                started_at timestamptz NOT NULL DEFAULT now(),
                last_seen timestamptz NOT NULL DEFAULT now()
            )
            """,
        ],
        [
            // One row per instance and slice of the fleet's clock: what it recorded (docs/fleet.md, statistics).
            """
            CREATE TABLE sentinel_slices (
                instance text NOT NULL,
                slice bigint NOT NULL,
                report bytea NOT NULL,
                written_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (instance, slice)
            )
            """,
            "CREATE INDEX sentinel_slices_slice ON sentinel_slices (slice)",
        ],
    ]

    static var latestVersion: Int { migrations.count }

    /// Creates or migrates the tables; refuses a database migrated by a newer build.
    static func migrate(_ connection: PostgresConnection, schema: String, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock), \(key(schema)))", logger: logger)
            // Looked up first: CREATE SCHEMA checks its privilege even when the schema exists. The name was checked
            // (FleetDatabase.isValidSchema) and is quoted.
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)", logger: logger)
                .decode(Int.self)
            {
                exists = true
            }
            if !exists { try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \"\(schema)\""), logger: logger) }
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS sentinel_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0)::integer FROM sentinel_schema", logger: logger
            ).decode(Int.self) {
                current = version
            }
            guard current <= latestVersion else {
                throw FleetError.schemaTooNew(found: current, known: latestVersion)
            }
            for version in (current + 1)..<(latestVersion + 1) {
                for statement in migrations[version - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO sentinel_schema (version) VALUES (\(version))", logger: logger)
                logger.info("fleet: database schema migrated to version \(version)")
            }
        }
    }
}
