/// The range a number read from a user (a file, a script, a command) must lie
/// in, with its unit.
///
/// Every duration, size, rate, count and interval goes through one
/// ``check(_:)`` where it is read, so nothing out of range reaches a
/// conversion that would trap (`Int64(1e30)`, `Duration.seconds(9e9)`,
/// `now + interval`). The ranges the inputs use are named constants below and
/// documented in docs/scenarios.md and docs/control-plane.md.
///
/// ```swift
/// let seconds = try InputRange.scriptInterval.check(12)   // 12
/// try InputRange.scriptInterval.check(1e10)
/// // InputRangeError: "1e+10 s is out of range: from 100ms to 24h"
/// ```
public struct InputRange: Sendable, Hashable, CustomStringConvertible {
    /// What the number counts, for messages.
    public enum Unit: Sendable, Hashable {
        /// Seconds (durations and intervals).
        case seconds
        /// Bytes.
        case bytes
        /// Events per second.
        case perSecond
        /// A plain number.
        case number
    }

    /// Smallest accepted value.
    public var lower: Double
    /// Largest accepted value.
    public var upper: Double
    /// Whether `lower` itself is refused ("above 0").
    public var excludesLower: Bool
    /// Whether the value must be a whole number.
    public var wholeNumber: Bool
    /// What the number counts.
    public var unit: Unit

    /// Makes a range.
    public init(_ lower: Double, _ upper: Double, unit: Unit, excludesLower: Bool = false, wholeNumber: Bool = false) {
        precondition(lower <= upper && lower.isFinite && upper.isFinite, "an input range needs finite lower <= upper")
        self.lower = lower
        self.upper = upper
        self.unit = unit
        self.excludesLower = excludesLower
        self.wholeNumber = wholeNumber
    }

    /// Makes a range of seconds.
    public static func seconds(_ range: ClosedRange<Double>, excludesLower: Bool = false) -> InputRange {
        InputRange(range.lowerBound, range.upperBound, unit: .seconds, excludesLower: excludesLower)
    }

    /// Returns `value` when it lies in the range.
    ///
    /// - Throws: ``InputRangeError`` saying what the value is and what was expected.
    @discardableResult
    public func check(_ value: Double) throws(InputRangeError) -> Double {
        guard value.isFinite else {
            throw InputRangeError("\(Self.text(value, unit)) is not a finite number (expected \(self))")
        }
        let low = excludesLower ? value <= lower : value < lower
        guard !low, value <= upper else {
            throw InputRangeError("\(Self.text(value, unit)) is out of range (expected \(self))")
        }
        if wholeNumber, value != value.rounded(.towardZero) {
            throw InputRangeError("\(Self.text(value, unit)) is not a whole number (expected \(self))")
        }
        return value
    }

    /// Returns `value` as a whole number when it lies in the range.
    public func checkWhole(_ value: Double) throws(InputRangeError) -> Int {
        var range = self
        range.wholeNumber = true
        return Int(try range.check(value))
    }

    /// The range in words: `from 100ms to 24h`, `above 0 s up to 30 days`.
    public var description: String {
        let from = excludesLower ? "above \(Self.text(lower, unit)) up to" : "from \(Self.text(lower, unit)) to"
        return "\(wholeNumber ? "a whole number " : "")\(from) \(Self.text(upper, unit))"
    }

    /// A value with its unit, readable and never trapping: `250ms`, `1e+10 s`, `16MiB`.
    public static func text(_ value: Double, _ unit: Unit) -> String {
        guard value.isFinite else { return "\(value)" }
        switch unit {
        case .seconds: return readableSeconds(value)
        case .bytes: return readableBytes(value)
        case .perSecond: return "\(plain(value))/s"
        case .number: return plain(value)
        }
    }

    static func plain(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e9 { return String(Int64(value)) }
        if abs(value) >= 1e9 { return scientific(value) }
        return "\(value)"
    }

    /// `9.22e9`, `1e30`: three significant digits, for numbers too large to read in full.
    static func scientific(_ value: Double) -> String {
        var mantissa = abs(value)
        var exponent = 0
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        var digits = (mantissa * 100).rounded() / 100
        if digits >= 10 { digits /= 10; exponent += 1 }
        let sign = value < 0 ? "-" : ""
        let text = digits == digits.rounded() ? String(Int(digits)) : "\(digits)"
        return "\(sign)\(text)e\(exponent)"
    }

    static func readableSeconds(_ seconds: Double) -> String {
        let magnitude = abs(seconds)
        if magnitude == 0 { return "0s" }
        if magnitude >= 1e9 { return "\(scientific(seconds)) s" }
        let units: [(Double, String)] = [(86_400, " days"), (3600, "h"), (60, "m"), (1, "s"), (1e-3, "ms"), (1e-6, "µs")]
        // Days from two on: a day reads better as 24h.
        for (scale, name) in units where magnitude >= scale && (scale != 86_400 || magnitude >= 2 * 86_400) {
            let count = seconds / scale
            if count == count.rounded() { return plain(count) + name }
            if scale == 1 || scale < 1 { return "\(count.rounded(toPlaces: 3))\(name)" }
        }
        return "\(seconds) s"
    }

    static func readableBytes(_ bytes: Double) -> String {
        for (scale, name) in [(Double(1 << 30), "GiB"), (Double(1 << 20), "MiB"), (Double(1 << 10), "KiB")]
        where abs(bytes) >= scale && (bytes / scale).rounded() == bytes / scale {
            return plain(bytes / scale) + name
        }
        return plain(bytes) + " bytes"
    }
}

/// A number outside its ``InputRange``; the message says what was expected.
public struct InputRangeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, without the field's name (the reader adds it).
    public var message: String

    /// Makes an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
