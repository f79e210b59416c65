/// The limits every call into a ``LuaSandbox`` runs under.
///
/// The defaults suit a rule evaluated every few seconds: 1,000,000 VM
/// instructions, 50 ms, 16 MiB. A limit that is hit stops the call with a
/// ``ScriptError`` of code ``ScriptError/Code/instructionBudget``,
/// ``ScriptError/Code/deadline`` or ``ScriptError/Code/memory``; a script's own
/// `pcall` cannot catch it.
///
/// ```swift
/// var limits = ScriptLimits()
/// limits.deadline = .milliseconds(10)
/// let sandbox = try LuaSandbox(limits: limits)
/// ```
public struct ScriptLimits: Sendable, Hashable {
    /// VM instructions per call, or nil for no budget. Long library calls
    /// (pattern matching, sorting) are charged too, so in a deterministic run
    /// the budget, not the wall clock, stops them.
    public var instructions: Int?
    /// Wall-clock time per call, or nil for no deadline. Armed lazily, at the
    /// first hook tick, so a short call never reads the clock.
    public var deadline: Duration?
    /// Bytes the state may hold in all, or nil for no cap.
    public var memory: Int?
    /// Instructions between two runs of the limit hook. Smaller stops a
    /// runaway sooner and costs more.
    public var hookInterval: Int

    public init(
        instructions: Int? = 1_000_000,
        deadline: Duration? = .milliseconds(50),
        memory: Int? = 16 * 1024 * 1024,
        hookInterval: Int = 1000
    ) {
        self.instructions = instructions
        self.deadline = deadline
        self.memory = memory
        self.hookInterval = hookInterval
    }

    /// 1,000,000 instructions, 50 ms, 16 MiB.
    public static let `default` = ScriptLimits()

    /// No limits at all: for trusted code and for baselines in benchmarks.
    public static let unlimited = ScriptLimits(instructions: nil, deadline: nil, memory: nil)
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        if seconds >= Int64.max / 1_000_000_000 { return Int64.max }
        if seconds < 0 { return 0 }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
