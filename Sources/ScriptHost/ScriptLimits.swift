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
    ///
    /// A budget needs a count hook from the first instruction, and Lua 5.4
    /// then runs its hook dispatcher on every instruction: a tight loop runs
    /// about 2x slower. Without a budget no hook runs until a limit is hit
    /// (see ``deadline``), at full speed but without a reproducible count.
    public var instructions: Int?
    /// Wall-clock time per call, or nil for no deadline. With a budget, the
    /// hook checks it, armed lazily at its first run so a short call never
    /// reads the clock; without one, a watchdog thread arms the hook once the
    /// deadline has passed (at most about a millisecond late, never early).
    public var deadline: Duration?
    /// Bytes the state may hold in all, or nil for no cap.
    public var memory: Int?
    /// Instructions between two runs of the limit hook when a budget is set.
    /// Smaller stops a runaway sooner; it changes little in cost, since Lua
    /// visits every instruction once any count hook is set.
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
