import ScriptHost

/// A gate opened or closed by an evaluation, applied after it returns (none
/// when `evaluate` raises, like commands).
enum GateRequest: Sendable, Hashable {
    case open(name: String, message: String?)
    case reset(name: String)
}

extension ScriptAPI {
    /// `sentinel.approval(name [, { message = "..." }])` and `sentinel.approval_reset(name)`.
    ///
    /// `approval` returns the status and, once the gate is open, a table of
    /// who asked and who answered, so a rule can name the answer in its
    /// reason: `requested_by`, `message`, `answered_by`, `reason`.
    func installApprovals(in sandbox: LuaSandbox) throws(ScriptError) {
        try sandbox.register("approval", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...2)
            let name = try Self.gateName(arguments, 1)
            var message: String?
            if arguments.count >= 2, !arguments.isNil(2) {
                let options = try arguments.table(2)
                for key in options.keys where key != .string("message") {
                    throw arguments.bad(2, "unknown field '\(key.description.excerpt())' (expected message)")
                }
                switch options[.string("message")] {
                case nil, .nil?: break
                case .string(let text)?: message = text
                case let other?: throw arguments.bad(2, "message must be a string, got \(other.typeName)")
                }
            }
            guard let readGate = self.readGate else {
                throw arguments.bad(1, "approval gates are not available here")
            }
            if let gate = readGate(name) { return [.string(gate.status.rawValue), .table(Self.details(gate))] }
            self.record.gates.append(.open(name: name, message: message))
            return [.string(ApprovalGate.Status.pending.rawValue)]
        }
        try sandbox.register("approval_reset", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...1)
            self.record.gates.append(.reset(name: try Self.gateName(arguments, 1)))
            return []
        }
    }

    /// The fields of a gate a script may name in its reasons (absent ones are nil).
    static func details(_ gate: ApprovalGate) -> [LuaKey: LuaValue] {
        var table: [LuaKey: LuaValue] = ["requested_by": .string(gate.requestedBy)]
        table["message"] = gate.message.map(LuaValue.string)
        table["answered_by"] = gate.answeredBy.map(LuaValue.string)
        table["reason"] = gate.reason.map(LuaValue.string)
        return table
    }

    static func gateName(_ arguments: LuaArguments, _ index: Int) throws(LuaArgumentError) -> String {
        let name = try arguments.string(index)
        guard ApprovalGate.isValidName(name) else {
            throw arguments.bad(index, "'\(name.excerpt())' is not a gate name (1 to 128 letters, digits, _ - . :)")
        }
        return name
    }
}
