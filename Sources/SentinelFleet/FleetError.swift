/// What can go wrong between an instance and its fleet's database.
public enum FleetError: Error, CustomStringConvertible, Sendable {
    /// The database was migrated by a newer build of Sentinel.
    case schemaTooNew(found: Int, known: Int)
    /// A leader's write was refused: its term is over (another instance leads).
    case fenced(term: Int64, current: Int64, leader: String?)

    public var description: String {
        switch self {
        case .schemaTooNew(let found, let known):
            "the fleet's database schema is at version \(found), this build knows versions up to \(known): upgrade this instance"
        case .fenced(let term, let current, let leader):
            "a write of term \(term) was refused: the fleet is at term \(current), led by \(leader ?? "nobody")"
        }
    }
}
