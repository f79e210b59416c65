import CLua
import CScriptHost

#if canImport(Glibc)
import Glibc
#endif

/// A Swift function registered with a sandbox, boxed so C holds it by pointer.
final class FunctionBox {
    let name: String
    let body: (LuaArguments) throws -> [LuaValue]

    init(name: String, body: @escaping (LuaArguments) throws -> [LuaValue]) {
        self.name = name
        self.body = body
    }
}

/// The C callbacks into Swift, installed once per process.
enum Callbacks {
    static let installed: Bool = {
        var callbacks = sh_callbacks(
            call: callFunction,
            view_index: viewIndex,
            view_keys: viewKeys,
            view_length: viewLength,
            retain: { node in _ = Unmanaged<ViewNode>.fromOpaque(node!).retain() },
            release: { node in Unmanaged<ViewNode>.fromOpaque(node!).release() },
            panic: panic
        )
        sh_set_callbacks(&callbacks)
        return true
    }()

    private static func sandbox(_ host: UnsafeMutableRawPointer?) -> LuaSandbox {
        Unmanaged<LuaSandbox>.fromOpaque(host!).takeUnretainedValue()
    }

    private static let callFunction:
        @convention(c) (
            UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, OpaquePointer?, Int32, UnsafeMutablePointer<sh_opbuf>?
        ) -> Int32 = { _, box, state, count, out in
            let function = Unmanaged<FunctionBox>.fromOpaque(box!).takeUnretainedValue()
            let writer = OpBufferWriter(out!)
            let arguments = LuaArguments(state: state!, count: Int(count), functionName: function.name)
            do {
                let results = try function.body(arguments)
                for result in results {
                    guard writer.write(result) else {
                        writer.writeError("out of memory returning from '\(function.name)'")
                        return -1
                    }
                }
                return Int32(results.count)
            } catch let error as LuaArgumentError {
                writer.writeError(error.message)
            } catch {
                writer.writeError("\(error)")
            }
            return -1
        }

    private static let viewIndex:
        @convention(c) (
            UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafePointer<sh_key>?, UnsafeMutablePointer<sh_opbuf>?
        ) -> Int32 = { _, node, key, out in
            let source = Unmanaged<ViewNode>.fromOpaque(node!).takeUnretainedValue().source
            let key = key!.pointee
            let luaKey: LuaKey
            if key.type == CLUA_TSTRING {
                let bytes = UnsafeRawBufferPointer(start: key.string, count: key.length).bindMemory(to: UInt8.self)
                luaKey = .string(String(decoding: bytes, as: UTF8.self))
            } else {
                luaKey = .integer(key.integer)
            }
            let writer = OpBufferWriter(out!)
            let written: Bool
            switch source.luaValue(for: luaKey) {
            case nil: written = writer.write(.nil)
            case .value(let value)?: written = writer.write(value)
            case .table(let source)?: written = writer.write(view: source)
            }
            if !written {
                writer.writeError("out of memory reading a read-only table")
                return -1
            }
            return 0
        }

    private static let viewKeys:
        @convention(c) (
            UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<sh_opbuf>?
        ) -> Int32 = { _, node, out in
            let node = Unmanaged<ViewNode>.fromOpaque(node!).takeUnretainedValue()
            let writer = OpBufferWriter(out!)
            let keys = node.source.luaKeys()
            for key in keys where !writer.write(key.value) {
                writer.writeError("out of memory listing a read-only table")
                return -1
            }
            writer.valueCount = Int32(keys.count)
            return 0
        }

    private static let viewLength: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int64 = { _, node in
        Int64(Unmanaged<ViewNode>.fromOpaque(node!).takeUnretainedValue().source.luaLength)
    }

    private static let panic: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = { _, message in
        let text = message.map { String(cString: $0) } ?? "unknown"
        let line = "ScriptHost: Lua panic (unprotected error), the process will abort: \(text)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
