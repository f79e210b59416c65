/// Lowercase hexadecimal text of bytes: tokens, digests, idempotency keys.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The two lowercase hex digits of one byte.
    static func byte(_ byte: UInt8) -> String { string(CollectionOfOne(byte)) }

    /// `byteCount` bytes from the system's secure random source
    /// (`SystemRandomNumberGenerator`: getrandom(2) on Linux), as hex.
    static func random(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return string((0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
