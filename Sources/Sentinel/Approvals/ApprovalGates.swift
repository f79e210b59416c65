import Resilience

/// The approval gates of a sentinel: scripts open them
/// (`sentinel.approval(name)`), operators answer them (`approval.grant`,
/// `approval.deny`), scripts close them (`sentinel.approval_reset(name)`).
/// An answered gate keeps its answer until it is reset; gates are saved with
/// the state.
///
/// Opening a gate is audited as `approval.request` (actor the script,
/// target the gate, the message as the reason), once; answers are the
/// commands' own audit entries.
public final class ApprovalGates: Sendable {
    let plane: ControlPlane
    let gates = Locked<[String: ApprovalGate]>([:])

    public init(plane: ControlPlane) {
        self.plane = plane
    }

    /// Registers `approval.grant` and `approval.deny` (once).
    public func registerCommands() throws(CommandError) {
        for command: any Command in [ApprovalAnswerCommand(gates: self, approve: true), ApprovalAnswerCommand(gates: self, approve: false)]
        where plane.command(named: command.name) == nil {
            try plane.register(command)
        }
    }

    /// Every gate by name.
    public var all: [String: ApprovalGate] { gates.withLock { $0 } }

    /// The gate named `name`.
    public func gate(named name: String) -> ApprovalGate? { gates.withLock { $0[name] } }

    /// `GET /v1/approvals`: every gate as JSON, by name.
    public func view() -> [String: JSONValue] { all.mapValues(\.jsonValue) }

    /// Opens a gate for `script` unless it is open already; returns its status.
    @discardableResult
    public func open(_ name: String, message: String?, by script: String) -> ApprovalGate.Status {
        let now = plane.now
        let (status, opened) = gates.withLock { gates -> (ApprovalGate.Status, Bool) in
            if let gate = gates[name] { return (gate.status, false) }
            gates[name] = ApprovalGate(name: name, status: .pending, requestedBy: script, requestedAt: now, message: message)
            return (.pending, true)
        }
        if opened {
            plane.record(
                AuditEntry(
                    time: now, actor: script, action: "approval.request", target: name,
                    args: ["gate": .string(name), "message": message.map { .string($0) } ?? .null],
                    outcome: .applied, reason: message ?? "waiting for an approval"))
        }
        return status
    }

    /// Closes a gate (a script's `approval_reset`), audited as `approval.reset`.
    public func reset(_ name: String, by script: String) {
        guard gates.withLock({ $0.removeValue(forKey: name) }) != nil else { return }
        plane.record(
            AuditEntry(
                time: plane.now, actor: script, action: "approval.reset", target: name, args: ["gate": .string(name)],
                outcome: .applied, reason: "the script closed the gate"))
    }

    /// An operator's answer; the command that carries it is audited by the plane.
    func answer(_ name: String, approve: Bool, by identity: Identity, reason: String?) throws(CommandError) -> ApprovalGate {
        let now = plane.now
        return try gates.withLock { (gates: inout [String: ApprovalGate]) throws(CommandError) -> ApprovalGate in
            guard var gate = gates[name] else {
                let open = gates.keys.sorted()
                throw CommandError(
                    .invalidArgument,
                    "no approval gate named \(name.excerpt()) is open" + (open.isEmpty ? "" : " (open: \(open.joined(separator: ", ")))"))
            }
            guard gate.status == .pending else {
                throw CommandError(
                    .guardRefused,
                    "gate \(name) was \(gate.status.rawValue) already by \(gate.answeredBy ?? "?"); the script resets it to ask again")
            }
            gate.status = approve ? .approved : .denied
            gate.answeredBy = identity.auditName
            gate.answeredAt = now
            gate.reason = reason
            gates[name] = gate
            return gate
        }
    }
}
