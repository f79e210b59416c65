/// Why a call into a ``LuaSandbox`` failed.
///
/// The description reads `chunk:line: message`, the way compilers and
/// `sentinel check` print errors. Limits (`instructionBudget`, `deadline`,
/// `memory`) leave the state usable, but a script stopped half-way may have
/// left its own globals and tables half-updated: when that matters, discard the
/// sandbox and load the script again from its source
/// (``stateMayBeInconsistent`` says so).
public struct ScriptError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The source does not compile (or is a binary chunk).
        case syntax
        /// The script raised an error.
        case runtime
        /// The call ran more VM instructions than ``ScriptLimits/instructions``.
        case instructionBudget
        /// The call ran past ``ScriptLimits/deadline``.
        case deadline
        /// The state would have grown past ``ScriptLimits/memory``.
        case memory
        /// A value could not be converted between Lua and Swift.
        case type
        /// The state is unusable (a panic, or a misuse of the host API).
        case dead
    }

    public var code: Code
    /// The message without its `chunk:line:` prefix.
    public var message: String
    /// The chunk's display name (`policies/retry.lua`), when known.
    public var chunkName: String?
    /// The line in the chunk, when known.
    public var line: Int?
    /// Lua's traceback from the point of the error, when one could be built.
    public var traceback: String?

    public init(code: Code, message: String, chunkName: String? = nil, line: Int? = nil, traceback: String? = nil) {
        self.code = code
        self.message = message
        self.chunkName = chunkName
        self.line = line
        self.traceback = traceback
    }

    /// True for the limits: the script stopped at an arbitrary point.
    public var stateMayBeInconsistent: Bool {
        switch code {
        case .instructionBudget, .deadline, .memory, .dead: true
        default: false
        }
    }

    /// `chunk:line: message`, or as much of it as is known.
    public var description: String {
        switch (chunkName, line) {
        case (let chunk?, let line?): "\(chunk):\(line): \(message)"
        case (let chunk?, nil): "\(chunk): \(message)"
        default: message
        }
    }
}
