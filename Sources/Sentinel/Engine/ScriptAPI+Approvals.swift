import ScriptHost

/// A gate opened or closed by an evaluation, applied after it returns (none
/// when `evaluate` raises, like commands).
enum GateRequest: Sendable, Hashable {
    case open(name: String, message: String?)
    case reset(name: String)
}

extension ScriptAPI {
    /// `sentinel.approval(name [, { message = "..." }])` and `sentinel.approval_reset(name)`.
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
            if let status = readGate(name) { return [.string(status.rawValue)] }
            self.record.gates.append(.open(name: name, message: message))
            return [.string(ApprovalGate.Status.pending.rawValue)]
        }
        try sandbox.register("approval_reset", in: "sentinel") { [unowned self] arguments in
            try arguments.expectCount(1...1)
            self.record.gates.append(.reset(name: try Self.gateName(arguments, 1)))
            return []
        }
    }

    static func gateName(_ arguments: LuaArguments, _ index: Int) throws(LuaArgumentError) -> String {
        let name = try arguments.string(index)
        guard ApprovalGate.isValidName(name) else {
            throw arguments.bad(index, "'\(name.excerpt())' is not a gate name (1 to 128 letters, digits, _ - . :)")
        }
        return name
    }
}
