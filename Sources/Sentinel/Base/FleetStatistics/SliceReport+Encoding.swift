import Resilience

/// A ``SliceReport`` as bytes: what an instance writes to the fleet's store
/// each slice, in one row. Compact: varints, each pipeline's name once, and
/// only the non-empty latency buckets, as gaps from the previous one.
///
/// ```
/// "SSR1"  slice (zigzag varint)  instance (string)  pipelines (varint)
///   per pipeline: name (string)  sides (varint)
///     per side: tag (0 live, 1 shadow, 2 variant + name)  7 counts (varints)
///               buckets (varint), each: gap from the previous index (varint)  count (varint)
/// string = length (varint) + UTF-8
/// ```
extension SliceReport {
    static let magic: [UInt8] = Array("SSR1".utf8)
    /// Longest pipeline, variant or instance name read back (bytes).
    static let maximumNameBytes = 65_536
    /// The largest count read back (``encoded()`` writes what it is given).
    static let maximumCallCount: UInt64 = 1 << 40

    /// The report's bytes.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(64 + entries.count * 48)
        Self.appendVarint(UInt64(bitPattern: (slice << 1) ^ (slice >> 63)), to: &bytes)
        Self.appendString(instance, to: &bytes)
        var groups: [(String, [Entry])] = []
        for entry in entries {
            if groups.last?.0 == entry.pipeline {
                groups[groups.count - 1].1.append(entry)
            } else {
                groups.append((entry.pipeline, [entry]))
            }
        }
        Self.appendVarint(UInt64(groups.count), to: &bytes)
        for (pipeline, sides) in groups {
            Self.appendString(pipeline, to: &bytes)
            Self.appendVarint(UInt64(sides.count), to: &bytes)
            for entry in sides {
                switch entry.side {
                case .live: bytes.append(0)
                case .shadow: bytes.append(1)
                case .variant(let name):
                    bytes.append(2)
                    Self.appendString(name, to: &bytes)
                }
                for count in entry.delta.counts { Self.appendVarint(count, to: &bytes) }
                Self.appendVarint(UInt64(entry.delta.buckets.count), to: &bytes)
                var previous = -1
                for bucket in entry.delta.buckets {
                    Self.appendVarint(UInt64(Int(bucket.index) - previous - 1), to: &bytes)
                    Self.appendVarint(bucket.count, to: &bytes)
                    previous = Int(bucket.index)
                }
            }
        }
        return bytes
    }

    /// Reads a report's bytes; throws naming the field and its offset when
    /// they are not a report this version wrote.
    public init(decoding bytes: [UInt8]) throws(SliceReportDecodingError) {
        var reader = ByteReader(bytes: bytes)
        guard bytes.count >= Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw SliceReportDecodingError(offset: 0, field: "header", problem: "not a slice report (expected \"SSR1\")")
        }
        reader.offset = Self.magic.count
        let zigzag = try reader.varint("slice")
        let slice = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        let instance = try reader.string("instance")
        let pipelineCount = try reader.count("pipelines", atMost: bytes.count)
        var entries: [Entry] = []
        for _ in 0..<pipelineCount {
            let pipeline = try reader.string("pipeline name")
            let sideCount = try reader.count("sides of '\(pipeline)'", atMost: bytes.count)
            for _ in 0..<sideCount {
                let tagOffset = reader.offset
                let side: StatisticsSide
                switch try reader.byte("side of '\(pipeline)'") {
                case 0: side = .live
                case 1: side = .shadow
                case 2: side = .variant(try reader.string("variant name of '\(pipeline)'"))
                case let tag:
                    throw SliceReportDecodingError(
                        offset: tagOffset, field: "side of '\(pipeline)'", problem: "unknown side tag \(tag) (expected 0, 1 or 2)")
                }
                func field() -> String { "'\(pipeline)' \(side.name)" }
                var counts: [UInt64] = []
                for _ in 0..<Outcome.allCases.count { counts.append(try reader.callCount("counts of \(field())")) }
                let bucketCount = try reader.count("buckets of \(field())", atMost: LatencyBuckets.count)
                var buckets: [OutcomeDelta.Bucket] = []
                var previous = -1
                for _ in 0..<bucketCount {
                    let gapOffset = reader.offset
                    let gap = try reader.varint("buckets of \(field())")
                    let count = try reader.callCount("buckets of \(field())")
                    guard gap < UInt64(LatencyBuckets.count), previous + 1 + Int(gap) < LatencyBuckets.count, count > 0 else {
                        throw SliceReportDecodingError(
                            offset: gapOffset, field: "buckets of \(field())",
                            problem: count == 0 ? "an empty bucket is listed" : "a bucket beyond the last (\(LatencyBuckets.count - 1))")
                    }
                    previous += 1 + Int(gap)
                    buckets.append(OutcomeDelta.Bucket(index: UInt16(previous), count: count))
                }
                guard let delta = OutcomeDelta(counts: counts, buckets: buckets) else {
                    throw SliceReportDecodingError(offset: tagOffset, field: field(), problem: "not a valid delta")
                }
                let entry = Entry(pipeline: pipeline, side: side, delta: delta)
                // In order and once each, as written: a stream listed twice would count twice.
                if let previous = entries.last, !((previous.pipeline, previous.side) < (pipeline, side)) {
                    throw SliceReportDecodingError(
                        offset: tagOffset, field: field(),
                        problem: "after '\(previous.pipeline)' \(previous.side.name): streams must be in order, each once")
                }
                entries.append(entry)
            }
        }
        guard reader.offset == bytes.count else {
            throw SliceReportDecodingError(
                offset: reader.offset, field: "end", problem: "\(bytes.count - reader.offset) bytes after the last pipeline")
        }
        self.init(instance: instance, slice: slice, entries: entries)
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func appendString(_ string: String, to bytes: inout [UInt8]) {
        appendVarint(UInt64(string.utf8.count), to: &bytes)
        bytes.append(contentsOf: string.utf8)
    }
}

/// Why bytes are not a slice report: the field, where it starts, and what is wrong.
public struct SliceReportDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset of the field.
    public let offset: Int
    public let field: String
    public let problem: String

    public var description: String { "slice report, byte \(offset), \(field): \(problem)" }
}

/// Reads varints, bytes and strings, throwing at the field that ran out or was malformed.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func byte(_ field: @autoclosure () -> String) throws(SliceReportDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw SliceReportDecodingError(offset: offset, field: field(), problem: "the bytes end here") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint(_ field: @autoclosure () -> String) throws(SliceReportDecodingError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else {
                throw SliceReportDecodingError(offset: start, field: field(), problem: "the bytes end inside a number")
            }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw SliceReportDecodingError(offset: start, field: field(), problem: "a number above 2^64")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw SliceReportDecodingError(offset: start, field: field(), problem: "a number above 2^64") }
        }
    }

    /// Calls counted in one slice: at most 2^40 (a trillion in 10 s is no
    /// real slice, and sums of such counts must stay far below 2^63, where
    /// statistics turn them into `Int`).
    mutating func callCount(_ field: @autoclosure () -> String) throws(SliceReportDecodingError) -> UInt64 {
        let start = offset
        let value = try varint(field())
        guard value <= SliceReport.maximumCallCount else {
            throw SliceReportDecodingError(offset: start, field: field(), problem: "\(value) calls, more than 2^40 in one slice")
        }
        return value
    }

    /// A count of items that follow, at most `limit`.
    mutating func count(_ field: @autoclosure () -> String, atMost limit: Int) throws(SliceReportDecodingError) -> Int {
        let start = offset
        let value = try varint(field())
        guard value <= UInt64(limit) else {
            throw SliceReportDecodingError(offset: start, field: field(), problem: "\(value) of them, more than \(limit)")
        }
        return Int(value)
    }

    mutating func string(_ field: @autoclosure () -> String) throws(SliceReportDecodingError) -> String {
        let start = offset
        let length = try count(field(), atMost: SliceReport.maximumNameBytes)
        guard bytes.count - offset >= length else {
            throw SliceReportDecodingError(offset: start, field: field(), problem: "the bytes end inside the name")
        }
        defer { offset += length }
        guard let string = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
            throw SliceReportDecodingError(offset: start, field: field(), problem: "not UTF-8")
        }
        return string
    }
}
