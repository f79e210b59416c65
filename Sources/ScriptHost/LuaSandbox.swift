import CLua
import CScriptHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One sandboxed Lua 5.4 state: a script's own interpreter, with limits on
/// every call into it.
///
/// The sandbox offers `string`, `table`, `math`, `utf8`, `pairs`, `ipairs`,
/// `next`, `pcall`, `error`, `assert`, `select`, `type`, `tostring`,
/// `tonumber`, `setmetatable`/`getmetatable` and nothing that reaches files,
/// processes, the network, bytecode, the garbage collector or the debug
/// library. `pairs` and `next` visit keys in sorted order and `math.random` is
/// seeded by the host, so one seed gives one result.
///
/// ## Isolation
///
/// A `LuaSandbox` is not `Sendable`: a `lua_State` must be used by one thread
/// at a time. Create it inside the isolation domain that uses it (an actor,
/// or a dedicated thread), or send it there once, and never share it.
///
/// ```swift
/// let sandbox = try LuaSandbox()
/// let rule = try sandbox.load("return function(x) return x.calls * 2 end", chunkName: "@rule.lua")
/// let doubled = try sandbox.call(rule, .value(["calls": 21]))   // .integer(42)
/// ```
public final class LuaSandbox {
    private static let serials = Atomic<UInt64>(1)

    let state: OpaquePointer
    private let info: UnsafeMutablePointer<sh_state_info>
    private let scratch: UnsafeMutablePointer<sh_opbuf>
    private let arguments: UnsafeMutablePointer<sh_opbuf>
    private let serial: UInt64
    private var functions: [FunctionBox] = []

    /// The limits of every call from now on.
    public var limits: ScriptLimits {
        didSet { apply(limits) }
    }

    /// Bytes the state holds now.
    public var memoryInUse: Int { info.pointee.mem_used }
    /// The most bytes the state ever held.
    public var peakMemory: Int { info.pointee.mem_peak }
    /// The number of values on the Lua stack: 0 between calls (tests check it).
    public var stackDepth: Int { Int(lua_gettop(state)) }
    /// VM instructions the last call ran, to the hook's granularity (with an
    /// instruction budget; without one, only long library calls are counted).
    public var lastCallInstructions: Int { Int(info.pointee.instr_used) }

    /// Creates a state with the sandbox open.
    ///
    /// - Parameters:
    ///   - limits: the limits of every call.
    ///   - seed: the seed of `math.random`.
    public init(limits: ScriptLimits = .default, seed: Int64 = 0) throws(ScriptError) {
        _ = Callbacks.installed
        self.limits = limits
        serial = Self.serials.add(1, ordering: .relaxed).oldValue
        info = .allocate(capacity: 1)
        memset(info, 0, MemoryLayout<sh_state_info>.size)
        scratch = .allocate(capacity: 1)
        sh_opbuf_init(scratch)
        arguments = .allocate(capacity: 1)
        sh_opbuf_init(arguments)
        Self.write(limits, to: info)
        // Opening the sandbox needs room beyond a tiny cap; the cap applies from the first script on.
        let cap = info.pointee.mem_cap
        if cap != 0 { info.pointee.mem_cap = max(cap, 256 * 1024) }
        guard let state = sh_newstate(info) else {
            Self.free(info: info, scratch: scratch, arguments: arguments)
            throw ScriptError(code: .memory, message: "cannot create a Lua state")
        }
        self.state = state
        info.pointee.scratch = scratch
        info.pointee.host = Unmanaged.passUnretained(self).toOpaque()
        let status = sh_open_sandbox(state, seed)
        info.pointee.mem_cap = cap
        if status != CLUA_OK {
            let error = takeError(status: status, chunkName: nil)
            throw error
        }
    }

    deinit {
        sh_close(state)
        Self.free(info: info, scratch: scratch, arguments: arguments)
    }

    private static func free(
        info: UnsafeMutablePointer<sh_state_info>, scratch: UnsafeMutablePointer<sh_opbuf>,
        arguments: UnsafeMutablePointer<sh_opbuf>
    ) {
        sh_opbuf_free(scratch)
        sh_opbuf_free(arguments)
        scratch.deallocate()
        arguments.deallocate()
        info.deallocate()
    }

    private static func write(_ limits: ScriptLimits, to info: UnsafeMutablePointer<sh_state_info>) {
        info.pointee.instr_budget = Int64(limits.instructions ?? 0)
        info.pointee.deadline_ns = limits.deadline?.nanosecondsClamped ?? 0
        info.pointee.mem_cap = limits.memory ?? 0
        info.pointee.hook_granularity = Int32(clamping: max(1, min(limits.hookInterval, limits.instructions ?? Int.max)))
    }

    private func apply(_ limits: ScriptLimits) {
        // The next call installs the hook these limits need (sh_begin_call).
        Self.write(limits, to: info)
    }

    // MARK: - Loading

    /// Compiles `source` as text (never bytecode) into its own environment,
    /// runs it under the limits, and returns a reference to its first result.
    ///
    /// - Parameters:
    ///   - chunkName: how errors name the chunk: `@policies/retry.lua` for a
    ///     file (errors then read `policies/retry.lua:12: ...`), `=name` for
    ///     anything else.
    /// - Throws: ``ScriptError`` with code `syntax` (and the line) when the
    ///   source does not compile, or any code when running it fails.
    public func load(_ source: String, chunkName: String) throws(ScriptError) -> LuaReference {
        var resultRef: Int32 = 0
        var environmentRef: Int32 = 0
        var source = source
        let status = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { bytes in
                sh_load(state, bytes.baseAddress, bytes.count, chunkName, &resultRef, &environmentRef)
            }
        }
        guard status == CLUA_OK else {
            throw takeError(status: status, chunkName: chunkName)
        }
        _ = sh_unref(state, environmentRef)
        return LuaReference(id: resultRef, sandbox: serial)
    }

    // MARK: - Calling

    /// Calls a function with one argument and returns its first result.
    public func call(_ function: LuaReference, _ argument: LuaInput) throws(ScriptError) -> LuaValue {
        try check(function)
        sh_opbuf_reset(arguments)
        guard OpBufferWriter(arguments).write(argument) else { throw Self.argumentsError }
        return try callReturningFirst(function, field: nil)
    }

    /// Calls a function with two arguments and returns its first result.
    public func call(_ function: LuaReference, _ first: LuaInput, _ second: LuaInput) throws(ScriptError) -> LuaValue {
        try check(function)
        sh_opbuf_reset(arguments)
        let writer = OpBufferWriter(arguments)
        guard writer.write(first), writer.write(second) else { throw Self.argumentsError }
        return try callReturningFirst(function, field: nil)
    }

    /// Calls a function with any arguments and returns its first result.
    public func call(_ function: LuaReference, arguments: [LuaInput] = []) throws(ScriptError) -> LuaValue {
        try check(function)
        try write(arguments)
        return try callReturningFirst(function, field: nil)
    }

    /// Calls `table[field]` (for example a script's `evaluate`) and returns its first result.
    public func call(_ table: LuaReference, field: String, arguments: [LuaInput] = []) throws(ScriptError) -> LuaValue {
        try check(table)
        try write(arguments)
        return try callReturningFirst(table, field: field)
    }

    /// Calls a function and returns all of its results.
    public func callReturningAll(
        _ function: LuaReference, field: String? = nil, arguments: [LuaInput] = []
    ) throws(ScriptError) -> [LuaValue] {
        try check(function)
        try write(arguments)
        let base = lua_gettop(state)
        try callOnStack(function, field: field)
        defer { lua_settop(state, base) }
        var results: [LuaValue] = []
        // base + 1 is the placeholder sh_call leaves below the results.
        var index = base + 2
        while index <= lua_gettop(state) {
            results.append(try readResult(at: index, name: "result #\(index - base - 1)"))
            index += 1
        }
        return results
    }

    private static let argumentsError = ScriptError(code: .memory, message: "out of memory preparing the arguments")

    private func write(_ inputs: [LuaInput]) throws(ScriptError) {
        sh_opbuf_reset(arguments)
        let writer = OpBufferWriter(arguments)
        for input in inputs {
            guard writer.write(input) else { throw Self.argumentsError }
        }
    }

    /// Runs the call whose arguments are in `arguments` and reads its first result.
    private func callReturningFirst(_ function: LuaReference, field: String?) throws(ScriptError) -> LuaValue {
        let base = lua_gettop(state)
        try callOnStack(function, field: field)
        defer { lua_settop(state, base) }
        // base + 1 is the placeholder sh_call leaves below the results.
        if lua_gettop(state) < base + 2 { return .nil }
        return try readResult(at: base + 2, name: "result")
    }

    private func callOnStack(_ function: LuaReference, field: String?) throws(ScriptError) {
        let base = lua_gettop(state)
        let status: Int32
        if let field {
            status = sh_call(state, function.id, field, arguments)
        } else {
            status = sh_call(state, function.id, nil, arguments)
        }
        sh_opbuf_reset(arguments)  // releases views that were never built
        guard status == CLUA_OK, info.pointee.limit_hit == 0 else {
            if status == CLUA_OK {
                // A pcall in the script returned normally after the hook fired:
                // the call failed all the same; drop its results.
                lua_settop(state, base)
                lua_pushnil(state)
            }
            throw takeError(status: status, chunkName: nil)
        }
    }

    private func readResult(at index: Int32, name: String) throws(ScriptError) -> LuaValue {
        do {
            return try StackReader.value(state, index)
        } catch {
            throw ScriptError(code: .type, message: error.rendered(root: name))
        }
    }

    // MARK: - Values

    /// Stores a value (for example a script's `memory` table) in the sandbox.
    public func makeReference(_ input: LuaInput) throws(ScriptError) -> LuaReference {
        sh_opbuf_reset(arguments)
        guard OpBufferWriter(arguments).write(input) else { throw ScriptError(code: .memory, message: "out of memory") }
        var ref: Int32 = 0
        let status = sh_make_ref(state, arguments, &ref)
        sh_opbuf_reset(arguments)
        guard status == CLUA_OK else { throw takeError(status: status, chunkName: nil) }
        return LuaReference(id: ref, sandbox: serial)
    }

    /// The value a reference holds, copied into Swift.
    public func value(of reference: LuaReference) throws(ScriptError) -> LuaValue {
        try check(reference)
        lua_rawgeti(state, CLUA_REGISTRYINDEX, lua_Integer(reference.id))
        defer { lua_settop(state, -2) }
        return try readResult(at: -1, name: "value")
    }

    /// The Lua type name of the value a reference holds (`table`, `function`, ...).
    public func typeName(of reference: LuaReference) throws(ScriptError) -> String {
        try check(reference)
        lua_rawgeti(state, CLUA_REGISTRYINDEX, lua_Integer(reference.id))
        defer { lua_settop(state, -2) }
        return StackReader.typeName(state, -1)
    }

    /// The string keys of the table a reference holds (raw, sorted); empty
    /// for a non-table.
    public func fieldNames(of reference: LuaReference) throws(ScriptError) -> [String] {
        try check(reference)
        guard lua_checkstack(state, 3) != 0 else { throw ScriptError(code: .memory, message: "out of stack space") }
        let top = lua_gettop(state)
        defer { lua_settop(state, top) }
        lua_rawgeti(state, CLUA_REGISTRYINDEX, lua_Integer(reference.id))
        guard lua_type(state, -1) == CLUA_TTABLE else { return [] }
        let table = lua_gettop(state)
        var names: [String] = []
        lua_pushnil(state)
        while lua_next(state, table) != 0 {
            if lua_type(state, -2) == CLUA_TSTRING, case .string(let name) = StackReader.string(state, -2) {
                names.append(name)
            }
            lua_settop(state, -2)
        }
        return names.sorted()
    }

    /// The Lua type name of `reference[field]` (`nil` when the reference is
    /// not a table): check for `function` before calling a field.
    public func typeName(of reference: LuaReference, field: String) throws(ScriptError) -> String {
        try withField(reference, field) { StackReader.typeName(state, -1) }
    }

    /// `reference[field]` copied into Swift (raw access, no metamethods).
    public func field(_ field: String, of reference: LuaReference) throws(ScriptError) -> LuaValue {
        try withField(reference, field) { () throws(ScriptError) -> LuaValue in
            try readResult(at: -1, name: field)
        }
    }

    private func withField<T>(
        _ reference: LuaReference, _ field: String, _ body: () throws(ScriptError) -> T
    ) throws(ScriptError) -> T {
        try check(reference)
        let status = sh_push_field(state, reference.id, field)
        guard status == CLUA_OK else { throw takeError(status: status, chunkName: nil) }
        defer { lua_settop(state, -2) }
        return try body()
    }

    /// Forgets a reference; the value is collected once nothing else holds it.
    public func release(_ reference: LuaReference) {
        guard reference.sandbox == serial else { return }
        _ = sh_unref(state, reference.id)
    }

    /// Runs a full garbage collection.
    public func collectGarbage() {
        sh_collect(state)
    }

    // MARK: - Swift functions

    /// Makes a Swift function callable from Lua as `name`, or as
    /// `table.name` when `table` is given (the table is created when missing).
    ///
    /// The function reads its arguments through ``LuaArguments``, whose typed
    /// accessors throw errors naming the function and the argument. Anything
    /// it throws becomes a Lua error with the error's description at the line
    /// of the call; no Lua error ever unwinds through Swift.
    ///
    /// ```swift
    /// sandbox.register("double", in: "host") { arguments in
    ///     [.number(try arguments.number(1) * 2)]
    /// }
    /// ```
    public func register(
        _ name: String, in table: String? = nil, _ body: @escaping (LuaArguments) throws -> [LuaValue]
    ) throws(ScriptError) {
        let box = FunctionBox(name: table.map { "\($0).\(name)" } ?? name, body: body)
        functions.append(box)
        let status = sh_register_function(state, table, name, Unmanaged.passUnretained(box).toOpaque())
        guard status == CLUA_OK else { throw takeError(status: status, chunkName: nil) }
    }

    // MARK: - Internals

    private func check(_ reference: LuaReference) throws(ScriptError) {
        guard reference.sandbox == serial else {
            throw ScriptError(code: .dead, message: "a reference from another sandbox was used")
        }
    }

    /// Turns the error object on top of the stack (if any) into a ScriptError and pops it.
    private func takeError(status: Int32, chunkName: String?) -> ScriptError {
        let limit = info.pointee.limit_hit
        let base = lua_gettop(state)
        var message = "unknown error"
        if base > 0 {
            if lua_type(state, -1) == CLUA_TSTRING, case .string(let text) = StackReader.string(state, -1) {
                message = text
            } else if sh_error_to_string(state) == CLUA_OK, case .string(let text) = StackReader.string(state, -1) {
                message = text
            } else {
                let type = StackReader.typeName(state, base)
                message = "(error object is a \(type) value whose __tostring failed)"
            }
        }
        sh_push_last_traceback(state)
        let traceback = lua_type(state, -1) == CLUA_TSTRING ? StackReader.string(state, -1).stringValue : nil
        lua_settop(state, max(0, base - 1))

        var error = ErrorLocation.split(message)
        if error.line == nil, info.pointee.error_line > 0 {
            error.line = Int(info.pointee.error_line)
            error.chunk = withUnsafeBytes(of: info.pointee.error_source) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let displayName = chunkName.map(ErrorLocation.displayName) ?? error.chunk
        let code: ScriptError.Code
        switch Int(limit) {
        case Int(SH_LIMIT_INSTRUCTIONS.rawValue):
            code = .instructionBudget
            error.text = "instruction budget of \(limits.instructions ?? 0) exhausted" + Self.rebuildAdvice
        case Int(SH_LIMIT_DEADLINE.rawValue):
            code = .deadline
            error.text = "deadline of \(limits.deadline.map { "\($0)" } ?? "none") exceeded" + Self.rebuildAdvice
        case Int(SH_LIMIT_MEMORY.rawValue):
            code = .memory
            error.text = "memory limit of \(limits.memory ?? 0) bytes reached" + Self.rebuildAdvice
        default:
            switch status {
            case CLUA_ERRSYNTAX: code = .syntax
            case CLUA_ERRMEM: code = .memory
            default: code = .runtime
            }
        }
        if code == .memory || code == .instructionBudget || code == .deadline {
            sh_collect(state)
        }
        if info.pointee.panicked != 0 {
            return ScriptError(code: .dead, message: message)
        }
        return ScriptError(
            code: code, message: error.text, chunkName: displayName ?? error.chunk, line: error.line,
            traceback: traceback)
    }

    private static let rebuildAdvice =
        " (the script stopped part-way: its state may be inconsistent; discard the sandbox and load the script again)"
}
