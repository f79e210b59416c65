/// Swift data that a script reads as a read-only table, resolved lazily.
///
/// Hand a source to a script with ``LuaInput/view(_:)``. The script sees a
/// table (`type(t) == "table"`) that supports indexing, `#`, `pairs`, `next`
/// and `ipairs`; assignment raises `attempt to assign to field 'x' of a
/// read-only table`. Keys are resolved only when the script reads them, and
/// each resolved key is cached in the Lua view, so a script that reads 10 of
/// 1,000 pipelines pays for 10. Nested tables are further sources, so the
/// whole structure stays lazy.
///
/// A view reflects its source as first read: build a new source (a new
/// snapshot) for each evaluation rather than mutating one a script may hold.
///
/// Implementations are called on the thread that runs the sandbox, while the
/// script runs; they must not call back into the sandbox.
public protocol LuaTableSource: AnyObject {
    /// The value at `key`, or nil when absent. Called at most once per key
    /// and view.
    func luaValue(for key: LuaKey) -> LuaViewValue?
    /// Every key, in the order `pairs` should visit them (sorted, for
    /// determinism).
    func luaKeys() -> [LuaKey]
    /// The length operator `#`: by default, the count of consecutive integer
    /// keys from 1.
    var luaLength: Int { get }
}

extension LuaTableSource {
    public var luaLength: Int {
        var count = 0
        while luaValue(for: .integer(Int64(count + 1))) != nil { count += 1 }
        return count
    }
}

/// What a ``LuaTableSource`` gives for a key: a plain value (copied into
/// Lua) or a nested read-only table.
public enum LuaViewValue {
    case value(LuaValue)
    case table(any LuaTableSource)
}

/// A read-only view over a ``LuaValue`` table; nested tables become nested
/// views when read.
///
/// ```swift
/// let config = LuaValueTable(["limits": ["rate": 100]])
/// try sandbox.call(rule, .view(config))   -- config.limits.rate == 100; writes raise
/// ```
public final class LuaValueTable: LuaTableSource {
    public let table: [LuaKey: LuaValue]

    public init(_ table: [LuaKey: LuaValue]) {
        self.table = table
    }

    /// A view over `value` when it is a table, else over an empty table.
    public convenience init(wrapping value: LuaValue) {
        self.init(value.tableValue ?? [:])
    }

    public func luaValue(for key: LuaKey) -> LuaViewValue? {
        switch table[key] {
        case nil, .nil?: nil
        case .table(let nested)?: .table(LuaValueTable(nested))
        case let value?: .value(value)
        }
    }

    public func luaKeys() -> [LuaKey] { table.keys.sorted() }
}

/// What Swift hands to Lua: a value (copied), a value already in the
/// sandbox, or a lazy read-only view.
public enum LuaInput {
    case value(LuaValue)
    case reference(LuaReference)
    case view(any LuaTableSource)
}
