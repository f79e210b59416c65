import NIOCore
import PostgresNIO
import Sentinel

/// The statistics' queries: each instance writes one row per slice, the
/// leader reads the rows it has not merged and deletes the old ones.
extension FleetSession {
    /// Whether the database has the slices' table yet (schema version 2: the replication loop migrates).
    func hasSlicesTable() async throws -> Bool {
        var found = false
        for try await exists in try await connection.query(
            "SELECT to_regclass('sentinel_slices') IS NOT NULL", logger: logger
        ).decode(Bool.self) {
            found = exists
        }
        return found
    }

    /// What became of a slice's write.
    enum SliceWrite: Sendable {
        /// Written now.
        case written
        /// The same report was there already (a write whose answer was lost, made again).
        case writtenBefore
        /// Another report holds that instance's slice (two processes under one `--instance`): nothing written.
        case conflict
    }

    /// Writes one instance's slice, once: a second write of the same report is
    /// `writtenBefore`, of another report under the same key `conflict`.
    func writeSlice(_ report: SliceReport) async throws -> SliceWrite {
        let bytes = ByteBuffer(bytes: report.encoded())
        var outcome = SliceWrite.conflict
        for try await fresh in try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO sentinel_slices (instance, slice, report) VALUES (\(report.instance), \(report.slice), \(bytes))
                ON CONFLICT (instance, slice) DO NOTHING RETURNING true)
            SELECT true FROM inserted
            UNION ALL
            SELECT false FROM sentinel_slices
            WHERE instance = \(report.instance) AND slice = \(report.slice) AND report = \(bytes) AND NOT EXISTS (SELECT 1 FROM inserted)
            """, logger: logger
        ).decode(Bool.self) {
            outcome = fresh ? .written : .writtenBefore
        }
        return outcome
    }

    /// Whether exactly this report is in the database (a write whose answer was lost may have committed).
    func sliceWritten(_ report: SliceReport) async throws -> Bool {
        let bytes = ByteBuffer(bytes: report.encoded())
        var found = false
        for try await _ in try await connection.query(
            "SELECT 1 FROM sentinel_slices WHERE instance = \(report.instance) AND slice = \(report.slice) AND report = \(bytes)",
            logger: logger
        ).decode(Int.self) {
            found = true
        }
        return found
    }

    /// Which instances wrote which slices from `from` through `through`, and
    /// any slice through `through` written in the last minute (a slice
    /// written late, after a lost connection), in slice order (no reports: a
    /// cheap listing).
    func listSlices(from: Int64, through: Int64) async throws -> [(instance: String, slice: Int64)] {
        var rows: [(String, Int64)] = []
        for try await row in try await connection.query(
            """
            SELECT instance, slice FROM sentinel_slices
            WHERE slice <= \(through) AND (slice >= \(from) OR written_at >= now() - interval '1 minute')
            ORDER BY slice, instance
            """, logger: logger
        ).decode((String, Int64).self) {
            rows.append(row)
        }
        return rows
    }

    /// The reports of the given instances' slices, as bytes (decoded by the caller, outside the call's deadline).
    func readSlices(_ keys: [(instance: String, slice: Int64)]) async throws -> [(instance: String, slice: Int64, bytes: [UInt8])] {
        guard !keys.isEmpty else { return [] }
        let instances = keys.map(\.instance), slices = keys.map(\.slice)
        var rows: [(String, Int64, [UInt8])] = []
        for try await (instance, slice, buffer) in try await connection.query(
            """
            SELECT s.instance, s.slice, s.report FROM sentinel_slices s
            JOIN unnest(\(instances)::text[], \(slices)::bigint[]) AS k(instance, slice) USING (instance, slice)
            ORDER BY s.slice, s.instance
            """, logger: logger
        ).decode((String, Int64, ByteBuffer).self) {
            rows.append((instance, slice, Array(buffer.readableBytesView)))
        }
        return rows
    }

    /// Deletes slices older than `slice` (the leader's housekeeping: the longest window is 90 slices).
    func pruneSlices(before slice: Int64) async throws {
        try await connection.query("DELETE FROM sentinel_slices WHERE slice < \(slice)", logger: logger)
    }
}
