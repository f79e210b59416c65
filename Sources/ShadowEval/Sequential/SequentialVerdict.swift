/// What a sequential test says at a look.
///
/// `violation` and `pass` hold at the test's confidence `1 − α` uniformly
/// over all looks, so a caller may act on the first one it sees; `continue`
/// means keep looking (more calls are needed to tell).
public enum SequentialVerdict: String, Sendable, Hashable, CaseIterable {
    /// The candidate is worse than the reference beyond the violation margin.
    case violation
    /// The candidate is no worse than the reference plus the pass margin.
    case pass
    /// Not decided yet: keep looking.
    case `continue`
}
