/// When an ``AuditFileSink`` calls `fsync(2)` after writing, so that entries
/// survive a power loss or kernel crash, not only a crash of the process.
///
/// A process crash alone never loses a written line: each line is one
/// `write(2)` into the kernel's page cache, which reaches the disk even if the
/// process dies right after. `fsync` guards against the machine going down.
/// It costs about a millisecond on an SSD (tens on a busy disk), against a few
/// microseconds for the write.
///
/// Whatever the policy, the sink also syncs on ``AuditFileSink/flush()``,
/// before a rotation and on close.
public enum AuditFsyncPolicy: Sendable, Hashable {
    /// Never sync after a write; only on flush, rotation and close. A machine
    /// crash can lose what the kernel had not yet written back (Linux writes
    /// dirty pages back within about 30 s).
    case never
    /// Sync after every entry: nothing acknowledged is lost, at the price of
    /// one `fsync` per decision.
    case always
    /// Sync after every N entries: at most N − 1 entries at risk.
    case everyEntries(Int)
    /// Sync on the first write at least this long after the previous sync: at
    /// most this much time of entries at risk while entries keep coming, and
    /// at most one `fsync` per interval. The timing uses the sink's clock.
    case interval(Duration)

    /// One second between syncs: the default.
    ///
    /// Why: `always` would add about a millisecond to every command and break
    /// the 10 µs budget of an audit append, while a second of decisions at risk
    /// on a power loss is what databases make the same trade for (Redis
    /// `appendfsync everysec`), and a process crash loses nothing either way.
    /// Control-plane decisions are rare enough that the sync lands on the write
    /// after a quiet second, and ``AuditLog/flush()`` on shutdown covers the rest.
    public static let `default` = AuditFsyncPolicy.interval(.seconds(1))
}
