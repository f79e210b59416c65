import Resilience

/// Why a command did not apply. The ``Code`` decides the audit outcome:
/// `denied` for authorization and the freeze, `rejected` for invalid
/// commands and guard refusals, `failed` when applying failed.
public struct CommandError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let raw: String
        init(_ raw: String) { self.raw = raw }

        /// No command is registered under the name.
        public static let unknownCommand = Code("unknown_command")
        /// An argument is missing or of the wrong type.
        public static let invalidArgument = Code("invalid_argument")
        /// The parameter does not exist.
        public static let unknownParameter = Code("unknown_parameter")
        /// The value is outside the knob's bounds or its validator refused it.
        public static let invalidValue = Code("invalid_value")
        /// A guard refused the change.
        public static let guardRefused = Code("guard_refused")
        /// The identity is not allowed to issue the command on this target.
        public static let unauthorized = Code("unauthorized")
        /// Automation is frozen by an operator.
        public static let frozen = Code("frozen")
        /// Applying failed or timed out; nothing changed.
        public static let failed = Code("failed")
        /// A name is already taken (registering a command twice).
        public static let duplicate = Code("duplicate")

        public var description: String { raw }
    }

    public var code: Code
    /// What was wrong, naming the command, argument, parameter or guard.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The audit outcome for this error.
    public var outcome: AuditOutcome {
        switch code {
        case .unauthorized, .frozen: .denied
        case .failed: .failed
        default: .rejected
        }
    }
}

extension CommandError {
    /// A knob's refusal as a command error that keeps its reason.
    public static func from(_ error: KnobError) -> CommandError {
        switch error.code {
        case .unknownKnob, .malformedName: CommandError(.unknownParameter, error.message)
        default: CommandError(.invalidValue, error.message)
        }
    }
}
