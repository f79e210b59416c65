import CScriptHost

/// Writes Swift values into an op buffer that C turns into Lua values inside
/// a protected call (Swift itself never calls an allocating Lua API).
struct OpBufferWriter {
    let buffer: UnsafeMutablePointer<sh_opbuf>
    /// Keeps view nodes alive until C has retained them.
    var pendingNodes: [ViewNode] = []

    init(_ buffer: UnsafeMutablePointer<sh_opbuf>) {
        self.buffer = buffer
    }

    func reset() { sh_opbuf_reset(buffer) }

    var valueCount: Int32 {
        get { buffer.pointee.nvalues }
        nonmutating set { buffer.pointee.nvalues = newValue }
    }

    @discardableResult
    mutating func write(_ input: LuaInput) -> Bool {
        switch input {
        case .value(let value): return write(value)
        case .reference(let reference): return sh_opbuf_push(buffer, Int32(SH_OP_REF.rawValue), Int64(reference.id), 0, nil) != 0
        case .view(let source): return write(view: source)
        }
    }

    mutating func write(view source: any LuaTableSource) -> Bool {
        let node = ViewNode(source)
        pendingNodes.append(node)
        return sh_opbuf_push(buffer, Int32(SH_OP_VIEW.rawValue), 0, 0, Unmanaged.passUnretained(node).toOpaque()) != 0
    }

    @discardableResult
    func write(_ value: LuaValue) -> Bool {
        switch value {
        case .nil:
            return sh_opbuf_push(buffer, Int32(SH_OP_NIL.rawValue), 0, 0, nil) != 0
        case .boolean(let flag):
            return sh_opbuf_push(buffer, Int32(flag ? SH_OP_TRUE.rawValue : SH_OP_FALSE.rawValue), 0, 0, nil) != 0
        case .integer(let integer):
            return sh_opbuf_push(buffer, Int32(SH_OP_INTEGER.rawValue), integer, 0, nil) != 0
        case .number(let number):
            return sh_opbuf_push(buffer, Int32(SH_OP_NUMBER.rawValue), 0, number, nil) != 0
        case .string(var string):
            return string.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { sh_opbuf_push_string(buffer, $0.baseAddress, $0.count) != 0 }
            }
        case .bytes(let bytes):
            return bytes.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { sh_opbuf_push_string(buffer, $0.baseAddress, $0.count) != 0 }
            }
        case .table(let table):
            var sequence = 0
            while table[.integer(Int64(sequence + 1))] != nil { sequence += 1 }
            let hashed = min(table.count - sequence, Int(Int32.max))
            let sizes = Int64(sequence) << 32 | Int64(hashed)
            guard sh_opbuf_push(buffer, Int32(SH_OP_NEWTABLE.rawValue), sizes, 0, nil) != 0 else { return false }
            for (key, element) in table where !element.isNil {
                guard write(key.value), write(element),
                    sh_opbuf_push(buffer, Int32(SH_OP_SETFIELD.rawValue), 0, 0, nil) != 0
                else { return false }
            }
            return true
        }
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
