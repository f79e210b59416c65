import Sentinel

/// What one instance writes at once: the desired-state keys that changed
/// (nil: removed) and the audit entries of the decisions that changed them,
/// stored under one version.
struct FleetChangeSet: Sendable {
    var changes: [String: JSONValue?]
    var audit: [AuditEntry]

    var isEmpty: Bool { changes.isEmpty && audit.isEmpty }
}

/// What an instance reads from the database: every key written after the
/// version it applied, and the audit of those versions, from one snapshot.
struct FleetUpdate: Sendable {
    /// The fleet's version when read: everything up to it is in this update.
    var version: Int64
    var term: Int64
    /// The newest value of each key written after the version asked for, with the version that wrote it.
    var rows: [(key: String, value: JSONValue?, version: Int64)]
    /// The audit written with each version, oldest first.
    var changeSets: [(version: Int64, instance: String, audit: [AuditEntry])]
}
