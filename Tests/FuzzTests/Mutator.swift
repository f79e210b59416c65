import Resilience

/// Seeded mutations of an input: deterministic for a seed, so a failure in
/// the suite is the same failure on every machine.
struct Mutator {
    var random: SplitMix64
    /// Tokens that have broken parsers before (extreme numbers, YAML anchors,
    /// Lua nesting) or that reach rarely taken branches.
    let dictionary: [String]

    init(seed: UInt64, dictionary: [String]) {
        random = SplitMix64(seed: seed)
        self.dictionary = dictionary + Self.common
    }

    static let common = [
        "1e308", "1.79e308", "-1", "0", "-0", "1e-320", "1e-300", "1e-9", "0.0001", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "nan", ".nan", "inf", "-inf", ".inf", "99999999999h", "2562048h", "9223372037s",
        "1e30GiB", "infGiB", "~", "null", "\"\"", "[]", "{}", "\u{0}", "\u{1}", "\u{FEFF}", "\\", "\"", "'", "\n", "\t",
        "é", "\u{10FFFF}",
    ]

    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(random.next() % UInt64(bound)) }

    /// One to four mutations of `input`; `other` is spliced from sometimes.
    mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            switch below(10) {
            case 0 where !bytes.isEmpty:  // flip one byte
                bytes[below(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 << below(8))
            case 1:  // insert a token
                let token = Array(dictionary[below(dictionary.count)].utf8)
                bytes.insert(contentsOf: token, at: below(bytes.count + 1))
            case 2 where !bytes.isEmpty:  // delete a run
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(32)))
            case 3 where !bytes.isEmpty:  // repeat a run
                let start = below(bytes.count)
                let run = bytes[start..<min(bytes.count, start + 1 + below(64))]
                let copies = 1 + below(8)
                bytes.insert(contentsOf: Array(repeating: Array(run), count: copies).joined(), at: start)
            case 4:  // replace a number with a token
                if let range = numberRange(in: bytes) {
                    bytes.replaceSubrange(range, with: Array(dictionary[below(dictionary.count)].utf8))
                }
            case 5 where !other.isEmpty:  // splice a run of another input
                let start = below(other.count)
                let run = other[start..<min(other.count, start + 1 + below(128))]
                bytes.insert(contentsOf: run, at: below(bytes.count + 1))
            case 7, 8:  // replace a value after "key: " with a token (structure-aware for YAML)
                if let range = valueRange(in: bytes) {
                    bytes.replaceSubrange(range, with: Array(dictionary[below(dictionary.count)].utf8))
                }
            case 6 where !bytes.isEmpty:  // swap two lines
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                if lines.count > 1 {
                    lines.swapAt(below(lines.count), below(lines.count))
                    bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                }
            default:  // truncate
                if !bytes.isEmpty { bytes.removeLast(below(bytes.count)) }
            }
        }
        return bytes
    }

    /// The value after a `: ` (up to the next `,`, `}` or line end) somewhere in `bytes`.
    private mutating func valueRange(in bytes: [UInt8]) -> Range<Int>? {
        guard bytes.count > 2 else { return nil }
        var index = below(bytes.count - 1)
        for _ in 0..<bytes.count {
            if bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: " ") { break }
            index = (index + 1) % (bytes.count - 1)
        }
        guard bytes[index] == UInt8(ascii: ":") else { return nil }
        let start = index + 2
        var end = start
        let stops: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "\n"), UInt8(ascii: "]")]
        while end < bytes.count, !stops.contains(bytes[end]) { end += 1 }
        return start..<end
    }

    /// A run of digits somewhere in `bytes`.
    private mutating func numberRange(in bytes: [UInt8]) -> Range<Int>? {
        guard !bytes.isEmpty else { return nil }
        var index = below(bytes.count)
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        var scanned = 0
        while !isDigit(bytes[index]) {
            index = (index + 1) % bytes.count
            scanned += 1
            if scanned == bytes.count { return nil }
        }
        var end = index
        while end < bytes.count, isDigit(bytes[end]) || bytes[end] == UInt8(ascii: ".") { end += 1 }
        return index..<end
    }
}
