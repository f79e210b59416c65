/// A 64-bit FNV-1a hash of a script file's bytes, used to tell whether a file
/// changed since the last scan.
///
/// This is change detection, not security: FNV-1a is fast (about one
/// multiply per byte) and spreads small edits well, but anyone who controls
/// a file's bytes can make two files with the same digest. The script folder
/// is trusted input (whoever can write it can already run any rule), so
/// an adversarial collision buys nothing that writing the file does not.
///
/// The scanner compares the digest *and* the byte count, so a collision
/// would also need the same length.
///
/// ```swift
/// let digest = ScriptDigest(of: Array("return {}".utf8))
/// print(digest)   // 16 hexadecimal digits
/// ```
public struct ScriptDigest: Sendable, Hashable, CustomStringConvertible {
    /// The 64-bit hash value.
    public let value: UInt64

    /// Wraps a hash value computed elsewhere (for example one read back from a state file).
    public init(value: UInt64) {
        self.value = value
    }

    /// Hashes `bytes` with FNV-1a 64.
    public init(of bytes: [UInt8]) {
        // The 64-bit FNV offset basis and prime from the FNV reference.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        value = hash
    }

    /// The value as 16 lowercase hexadecimal digits, zero-padded.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
