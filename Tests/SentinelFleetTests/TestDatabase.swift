import Logging
import PostgresNIO
import Testing

@testable import SentinelFleet

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL server `make test` starts (Tests/fleet/with-postgres.sh):
/// its URL in `SENTINEL_TEST_POSTGRES_URL`, its password in `PGPASSWORD`.
/// Each test works in a schema of its own, dropped at the end.
enum TestDatabase {
    static var url: String? { getenv("SENTINEL_TEST_POSTGRES_URL").map { String(cString: $0) } }
    /// Under CI the server must be there: the tests fail rather than skip.
    static var required: Bool { getenv("CI").map { String(cString: $0) } == "true" }
    static var runs: Bool { url != nil || required }

    /// Silent, unless `SENTINEL_TEST_FLEET_LOG` names a level (`debug`) to print at.
    static let logger: Logger = {
        guard let level = getenv("SENTINEL_TEST_FLEET_LOG").flatMap({ Logger.Level(rawValue: String(cString: $0)) }) else {
            return Logger(label: "fleet-test") { _ in SwiftLogNoOpLogHandler() }
        }
        var logger = Logger(label: "fleet-test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }()

    /// A fresh schema for one test, and the database address that uses it.
    static func make() throws -> FleetDatabase {
        guard let url else {
            Issue.record("SENTINEL_TEST_POSTGRES_URL is not set: run the fleet tests with `make test` (it starts a PostgreSQL server)")
            throw Unavailable()
        }
        let schema = "t_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let password = getenv("PGPASSWORD").map { String(cString: $0) }
        return try FleetDatabase(url: url + (url.contains("?") ? "&" : "?") + "schema=\(schema)", password: password)
    }

    /// A session of the test's own, on `database`'s schema.
    static func session(_ database: FleetDatabase, name: String = "sentinel:test") async throws -> FleetSession {
        try await FleetSession.connect(database, name: name, id: 99, logger: logger)
    }

    /// Drops the test's schema.
    static func drop(_ database: FleetDatabase) async {
        guard let session = try? await session(database) else { return }
        _ = try? await session.connection.query(
            PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(database.schema) CASCADE"), logger: logger)
        await session.close()
    }

    /// Waits up to `seconds` for `condition`, looking every 50 ms (a real server answers on its own time).
    static func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    struct Unavailable: Error {}
}
