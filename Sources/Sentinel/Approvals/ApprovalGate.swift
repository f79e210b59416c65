/// One approval gate: a script asked a person to approve a step, and what
/// the answer is.
public struct ApprovalGate: Sendable, Hashable {
    /// Where a gate stands.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending, approved, denied
    }

    /// The gate's name (one namespace for every script).
    public var name: String
    public var status: Status
    /// `script:NAME` of the script that opened it.
    public var requestedBy: String
    /// Unix seconds.
    public var requestedAt: Double
    /// What the script said it waits for.
    public var message: String?
    /// `operator:ID`, once answered.
    public var answeredBy: String?
    public var answeredAt: Double?
    /// The answer's reason.
    public var reason: String?

    public init(
        name: String, status: Status, requestedBy: String, requestedAt: Double, message: String?,
        answeredBy: String? = nil, answeredAt: Double? = nil, reason: String? = nil
    ) {
        self.name = name
        self.status = status
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.message = message
        self.answeredBy = answeredBy
        self.answeredAt = answeredAt
        self.reason = reason
    }

    /// `{ status, requested_by, requested_at, message, answered_by, answered_at, reason }`.
    public var jsonValue: JSONValue {
        func time(_ seconds: Double?) -> JSONValue { seconds.map { .string(RFC3339.string(fromUnixSeconds: $0)) } ?? .null }
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        return [
            "name": .string(name), "status": .string(status.rawValue), "requested_by": .string(requestedBy),
            "requested_at": time(requestedAt), "message": text(message), "answered_by": text(answeredBy),
            "answered_at": time(answeredAt), "reason": text(reason),
        ]
    }

    /// Whether `name` can name a gate: 1 to 128 letters, digits, `_ - . :`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.:".contains($0)) }
    }
}
