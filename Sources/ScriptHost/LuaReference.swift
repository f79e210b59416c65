/// A Lua value kept alive in a sandbox's registry: a loaded script's result,
/// a function, or a table such as a script's `memory`.
///
/// Valid only with the ``LuaSandbox`` that made it; using it with another one
/// is a ``ScriptError/Code/dead`` error. Release it with
/// ``LuaSandbox/release(_:)`` when done; all are released when the sandbox
/// is closed.
public struct LuaReference: Hashable, Sendable {
    let id: Int32
    let sandbox: UInt64
}
