/// RFC 3339 timestamps in UTC with milliseconds (`2026-11-23T18:45:00.123Z`),
/// as the audit log's `time` field writes them.
///
/// The civil date is computed from the Unix time with integer arithmetic
/// (Howard Hinnant's `civil_from_days`), not with a date formatter: it is fast,
/// allocation-free when appending, and gives the same bytes on every platform.
///
/// ```swift
/// RFC3339.string(fromUnixSeconds: 1_795_459_500.123)   // "2026-11-23T18:45:00.123Z"
/// RFC3339.unixSeconds(from: "2026-11-23T18:45:00.123Z")  // 1795459500.123
/// ```
public enum RFC3339 {
    /// The earliest time written: 0000-01-01T00:00:00.000Z, in Unix milliseconds.
    static let minimumMilliseconds: Int64 = -62_167_219_200_000
    /// The latest time written: 9999-12-31T23:59:59.999Z, in Unix milliseconds.
    static let maximumMilliseconds: Int64 = 253_402_300_799_999

    /// The timestamp of a Unix time, rounded to the nearest millisecond (halves
    /// away from zero).
    ///
    /// Times outside the four-digit years are clamped to
    /// `0000-01-01T00:00:00.000Z` and `9999-12-31T23:59:59.999Z`, and NaN is
    /// written as the epoch, so a broken clock still yields a valid line
    /// rather than a crash or a lost entry.
    public static func string(fromUnixSeconds seconds: Double) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(unixSeconds: seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 24 bytes of the timestamp of a Unix time to `bytes`.
    static func append(unixSeconds seconds: Double, to bytes: inout [UInt8]) {
        let milliseconds = clampedMilliseconds(seconds)
        let days = floorDivide(milliseconds, 86_400_000)
        let millisecondOfDay = milliseconds - days * 86_400_000
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(millisecondOfDay / 3_600_000, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 60_000 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(millisecondOfDay / 1000 % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millisecondOfDay % 1000, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The Unix time of an RFC 3339 timestamp, or nil when the text is not one.
    ///
    /// Accepts what RFC 3339 §5.6 allows: `T` or `t` (or a space) between date
    /// and time, any number of fraction digits, `Z`, `z` or an offset
    /// `+HH:MM`/`-HH:MM`. The date and time are checked (month 1–12, the day
    /// exists in that month, hour 0–23, minute 0–59, second 0–60). A leap second
    /// (`:60`) counts as the first second of the next minute, as Unix time does.
    /// With at most three fraction digits the result is the double nearest to the
    /// exact time, so ``string(fromUnixSeconds:)`` and this function round-trip.
    public static func unixSeconds(from text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse(Array($0)) }
    }

    private static func parse(_ bytes: [UInt8]) -> Double? {
        var position = 0
        func number(_ count: Int) -> Int64? {
            guard position + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[position..<position + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard position < bytes.count, allowed.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }

        // The fraction as an integer over a power of ten: exact up to nine digits.
        var fraction: Int64 = 0
        var scale: Int64 = 1
        if expect(UInt8(ascii: ".")) {
            var digits = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                // Digits past the ninth cannot change a double of this size.
                if digits < 9 {
                    fraction = fraction * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                    scale *= 10
                }
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
        }

        var offsetSeconds: Int64 = 0
        if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            offsetSeconds = 0
        } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            position += 1
            guard let offsetHours = number(2), expect(UInt8(ascii: ":")), let offsetMinutes = number(2),
                offsetHours <= 23, offsetMinutes <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard position == bytes.count else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        let wholeSeconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // One correctly rounded division, so `.123` reads back as the literal 0.123
        // would; with many fraction digits far from 1970 the product can overflow,
        // and the sum of two doubles is then as close as a double gets anyway.
        let (scaled, overflow) = wholeSeconds.multipliedReportingOverflow(by: scale)
        guard !overflow, Swift.abs(scaled) < 1 << 53 else {
            return Double(wholeSeconds) + Double(fraction) / Double(scale)
        }
        return Double(scaled + fraction) / Double(scale)
    }

    // MARK: - Calendar arithmetic

    private static func clampedMilliseconds(_ seconds: Double) -> Int64 {
        guard !seconds.isNaN else { return 0 }
        let milliseconds = (seconds * 1000).rounded(.toNearestOrAwayFromZero)
        if milliseconds <= Double(minimumMilliseconds) { return minimumMilliseconds }
        if milliseconds >= Double(maximumMilliseconds) { return maximumMilliseconds }
        return Int64(milliseconds)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// Year, month (1–12) and day (1–31) of a day counted from 1970-01-01, in the
    /// proleptic Gregorian calendar.
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // days from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Days from 1970-01-01 to a civil date: the inverse of ``civilDate(daysSinceEpoch:)``.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func appendDigits(_ value: Int64, count: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
