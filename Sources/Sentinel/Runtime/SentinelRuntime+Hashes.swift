/// Digests that show drift between a fleet's instances: two instances with
/// the same scripts (names and contents) and the same roles and guards show
/// the same hashes in `GET /v1/fleet`.
extension SentinelRuntime {
    /// A digest of the loaded scripts' names and contents, 16 hex digits.
    public func scriptsHash() async -> String {
        var hash = FNV1a()
        for script in await engine.scripts.sorted(by: { $0.name < $1.name }) {
            hash.add(script.name)
            hash.add(script.digest)
        }
        return hash.hex
    }

    /// A digest of the roles, grants and guards in force, 16 hex digits.
    public var configHash: String {
        // Dictionaries print in a per-process order: sort, so equal configurations hash equal on every instance.
        var hash = FNV1a()
        let access = plane.access
        for name in access.roles.keys.sorted() { hash.add("role \(name): \(access.roles[name]!)\n") }
        for pattern in access.assignments.keys.sorted() { hash.add("assign \(pattern): \(access.assignments[pattern]!)\n") }
        hash.add("\(plane.guards)")
        return hash.hex
    }
}

/// 64-bit FNV-1a: cheap, stable across processes and builds.
private struct FNV1a {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func add(_ number: UInt64) {
        value = (value ^ number) &* 0x0000_0100_0000_01b3
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
