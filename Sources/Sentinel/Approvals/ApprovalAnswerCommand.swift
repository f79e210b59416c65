/// `approval.grant { gate }` and `approval.deny { gate }`: an operator's
/// answer to a gate a script opened (the reason is the command's).
struct ApprovalAnswerCommand: Command {
    let gates: ApprovalGates
    let approve: Bool

    var name: String { approve ? "approval.grant" : "approval.deny" }

    func target(_ arguments: CommandArguments) throws(CommandError) -> String? { try arguments.string("gate") }

    func validate(_ arguments: CommandArguments, in plane: ControlPlane) throws(CommandError) {
        let name = try arguments.string("gate")
        guard ApprovalGate.isValidName(name) else {
            throw CommandError(.invalidArgument, "\(self.name): '\(name.excerpt())' is not a gate name (letters, digits, _ - . :)")
        }
    }

    func apply(_ arguments: CommandArguments, context: CommandContext, in plane: ControlPlane) async throws -> JSONValue {
        try gates.answer(try arguments.string("gate"), approve: approve, by: context.identity, reason: context.reason).jsonValue
    }
}
