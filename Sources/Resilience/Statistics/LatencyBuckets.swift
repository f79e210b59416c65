#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bucket layout of the latency histograms: logarithmic, 19 buckets per
/// doubling from 4.096 µs to 68.7 s, plus one bucket below and one above.
///
/// A bucket index is found from the integer's leading-zero count (the
/// doubling) and its next 10 bits (a table lookup), with no floating point, so
/// recording stays a few nanoseconds. Reported percentiles are bucket
/// midpoints; every bucket is at most 3.8 % wide, so the relative error is at
/// most 1.9 % for latencies in range (see `docs/performance-resilience.md`).
public enum LatencyBuckets {
    /// Buckets per doubling.
    public static let perOctave = 19
    /// log2 of the smallest tracked latency in nanoseconds (4096 ns).
    public static let minimumExponent = 12
    /// log2 of the largest tracked latency in nanoseconds (2^36 ns, about 68.7 s).
    public static let maximumExponent = 36
    /// Number of buckets, including underflow (index 0) and overflow (last).
    public static let count = (maximumExponent - minimumExponent) * perOctave + 2

    /// Sub-bucket of each of the 1024 segments of a doubling.
    static let segmentTable: [UInt8] = (0..<1024).map { segment in
        let ratio = 1 + Double(segment) / 1024
        return UInt8(min(perOctave - 1, Int((log2(ratio) * Double(perOctave)).rounded(.down))))
    }

    /// First segment of each sub-bucket (plus 1024 at the end).
    static let subBucketStart: [Int] = {
        var starts = Array(repeating: 1024, count: perOctave + 1)
        for segment in stride(from: 1023, through: 0, by: -1) {
            starts[Int(segmentTable[segment])] = segment
        }
        return starts
    }()

    /// The bucket for a latency in nanoseconds.
    @inline(__always)
    public static func index(nanoseconds: Int64) -> Int {
        let value = UInt64(max(nanoseconds, 0))
        if value < (1 << minimumExponent) { return 0 }
        let exponent = 63 - value.leadingZeroBitCount
        if exponent >= maximumExponent { return count - 1 }
        let segment = Int((value >> UInt64(exponent - 10)) & 1023)
        return 1 + (exponent - minimumExponent) * perOctave + Int(segmentTable[segment])
    }

    /// The range `[lower, upper)` of latencies in bucket `index`, in nanoseconds.
    public static func bounds(of index: Int) -> (lower: Double, upper: Double) {
        if index <= 0 { return (0, Double(1 << minimumExponent)) }
        if index >= count - 1 { return (Double(UInt64(1) << UInt64(maximumExponent)), .infinity) }
        let octave = (index - 1) / perOctave
        let sub = (index - 1) % perOctave
        let base = Double(UInt64(1) << UInt64(minimumExponent + octave))
        let lower = base * (1 + Double(subBucketStart[sub]) / 1024)
        let upper = base * (1 + Double(subBucketStart[sub + 1]) / 1024)
        return (lower, upper)
    }

    /// The value reported for bucket `index`: its midpoint, in nanoseconds.
    public static func representative(of index: Int) -> Double {
        let (lower, upper) = bounds(of: index)
        return upper.isInfinite ? lower : (lower + upper) / 2
    }
}
