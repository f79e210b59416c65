/// The judge's answer for one evaluation.
public enum TrialVerdict: Sendable, Hashable {
    /// Every judged metric held.
    case pass(Evidence)
    /// At least one metric is worse beyond tolerance (and, for rates, significantly so).
    /// The strings name the violated metrics.
    case violation([String], Evidence)
    /// Too few samples on either side to judge; the string says why.
    case inconclusive(String, Evidence)

    /// The evidence behind the verdict.
    public var evidence: Evidence {
        switch self {
        case .pass(let evidence), .violation(_, let evidence), .inconclusive(_, let evidence): evidence
        }
    }
}
