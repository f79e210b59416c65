/// Where an ``AuditLog`` writes its entries besides its in-memory ring: a file
/// (``AuditFileSink``), a log shipper, a test double.
///
/// The log calls a sink from one thread at a time, in the order entries were
/// appended, while holding the log's write lock: a sink must not append to the
/// log that owns it (that would deadlock), and a slow sink slows every append.
///
/// Failures are the log's to handle, and a sink reports them by throwing:
/// - ``write(_:)`` throws only when the entry was **not** stored. The log keeps
///   the entry in a bounded pending queue and offers it again, before any newer
///   entry, on the next write or flush; a sink that throws after storing an
///   entry would get it twice.
/// - A failure after the entry was stored (an `fsync` that failed) should be
///   kept by the sink and thrown from the next ``flush()``.
public protocol AuditSink: Sendable {
    /// Stores one entry, or throws when it could not be stored.
    func write(_ entry: AuditEntry) throws
    /// Makes everything written so far durable, and reports a deferred failure.
    func flush() throws
    /// Flushes and releases the sink; later writes fail.
    func close() throws
    /// Keeps `entry` (an `audit.dropped` note about entries this sink never
    /// got, made when the log closes) somewhere that survives the process, so
    /// the next start writes it. Returns false when the sink cannot.
    func noteUndelivered(_ entry: AuditEntry) throws -> Bool
}

extension AuditSink {
    /// Keeps `entry` (an `audit.dropped` note about entries this sink never
    /// got) somewhere that survives the process, for the next start to write.
    /// Returns false when the sink has no such place (the default).
    public func noteUndelivered(_ entry: AuditEntry) throws -> Bool { false }
}
