import CScriptHost

/// Writes Swift values into an op buffer that C turns into Lua values inside
/// a protected call (Swift itself never calls an allocating Lua API).
///
/// A view op owns a reference to its ``ViewNode`` until C builds the view,
/// which then takes it over; the buffer releases the ones never built.
struct OpBufferWriter {
    /// Tiny scalar-only ``LuaValueTable``s (a breaker's `{ state = ... }`) are
    /// sent whole (a filled view) rather than resolved key by key. Larger ones
    /// stay lazy: measured on a 10-field window of which a rule reads 3,
    /// filling costs more (a bigger table to build and collect) than three
    /// lookups.
    static let filledViewLimit = 4

    let buffer: UnsafeMutablePointer<sh_opbuf>

    init(_ buffer: UnsafeMutablePointer<sh_opbuf>) {
        self.buffer = buffer
    }

    func reset() { sh_opbuf_reset(buffer) }

    var valueCount: Int32 {
        get { buffer.pointee.nvalues }
        nonmutating set { buffer.pointee.nvalues = newValue }
    }

    @inline(__always)
    private func push(_ code: sh_op_code, _ integer: Int64 = 0, _ number: Double = 0) -> Bool {
        sh_opbuf_push(buffer, Int32(code.rawValue), integer, number, nil) != 0
    }

    @discardableResult
    func write(_ input: LuaInput) -> Bool {
        switch input {
        case .value(let value): return write(value)
        case .reference(let reference): return push(SH_OP_REF, Int64(reference.id))
        case .view(let source): return write(view: source)
        }
    }

    func write(view source: any LuaTableSource) -> Bool {
        if type(of: source) == LuaValueTable.self,
            let filled = writeFilled(unsafeDowncast(source as AnyObject, to: LuaValueTable.self))
        {
            return filled
        }
        let node = Unmanaged.passRetained(ViewNode(source)).toOpaque()
        return sh_opbuf_push_view(buffer, Int32(SH_OP_VIEW.rawValue), node) != 0
    }

    /// A small table of scalars: the whole table, then the op that wraps it
    /// in a view. Nil when the table does not qualify.
    private func writeFilled(_ table: LuaValueTable) -> Bool? {
        let fields = table.table
        guard fields.count <= Self.filledViewLimit else { return nil }
        for value in fields.values {
            if case .table = value { return nil }
        }
        guard push(SH_OP_NEWTABLE, Int64(fields.count)) else { return false }
        for (key, value) in fields where !value.isNil {
            guard write(key: key), write(value), push(SH_OP_SETFIELD) else { return false }
        }
        let node = Unmanaged.passRetained(ViewNode(table)).toOpaque()
        return sh_opbuf_push_view(buffer, Int32(SH_OP_VIEW_FILLED.rawValue), node) != 0
    }

    @inline(__always)
    func write(key: LuaKey) -> Bool {
        switch key {
        case .integer(let integer): return push(SH_OP_INTEGER, integer)
        case .number(let number): return push(SH_OP_NUMBER, 0, number)
        case .string(let string): return write(string: string)
        case .boolean(let flag): return push(flag ? SH_OP_TRUE : SH_OP_FALSE)
        }
    }

    @inline(__always)
    func write(string: String) -> Bool {
        var string = string
        return string.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { sh_opbuf_push_string(buffer, $0.baseAddress, $0.count) != 0 }
        }
    }

    @discardableResult
    func write(_ value: LuaValue) -> Bool {
        switch value {
        case .nil:
            return push(SH_OP_NIL)
        case .boolean(let flag):
            return push(flag ? SH_OP_TRUE : SH_OP_FALSE)
        case .integer(let integer):
            return push(SH_OP_INTEGER, integer)
        case .number(let number):
            return push(SH_OP_NUMBER, 0, number)
        case .string(let string):
            return write(string: string)
        case .bytes(let bytes):
            return bytes.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { sh_opbuf_push_string(buffer, $0.baseAddress, $0.count) != 0 }
            }
        case .table(let table):
            return write(table: table)
        }
    }

    private func write(table: [LuaKey: LuaValue]) -> Bool {
        // The sizes are hints for lua_createtable: count the integer keys in
        // 1...count (the array part) in the same pass that writes the pairs,
        // and patch the op afterwards.
        let tableOp = buffer.pointee.count
        guard push(SH_OP_NEWTABLE) else { return false }
        let count = table.count
        var sequence = 0
        var written = 0
        for (key, element) in table where !element.isNil {
            if case .integer(let index) = key, index >= 1, index <= count { sequence += 1 }
            guard write(key: key), write(element), push(SH_OP_SETFIELD) else { return false }
            written += 1
        }
        let hashed = min(written - sequence, Int(Int32.max))
        buffer.pointee.ops[tableOp].i = Int64(min(sequence, Int(Int32.max))) << 32 | Int64(hashed)
        return true
    }

    /// An error message for C to raise.
    func writeError(_ message: String) {
        reset()
        write(.string(message))
        valueCount = 1
    }
}

/// A view source boxed so that C can hold it by pointer.
final class ViewNode {
    let source: any LuaTableSource
    init(_ source: any LuaTableSource) { self.source = source }
}
