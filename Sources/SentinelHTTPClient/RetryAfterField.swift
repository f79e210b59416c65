#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value of a `Retry-After` header field (RFC 9110, section 10.2.3):
/// delay-seconds (`120`) or an HTTP-date, in any of the three forms a recipient
/// must accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete
/// RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`).
enum RetryAfterField {
    /// The wait `value` asks for, from `now` (Unix seconds) for a date; `nil` when it is
    /// neither form. A date in the past asks for no wait.
    static func delay(_ value: Substring, now: Double) -> Duration? {
        let text = value.trimmingSpaces
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            // Delay-seconds; absurdly long values saturate (a retry refuses them anyway).
            return .seconds(Int64(text.prefix(12)) ?? .max)
        }
        guard let date = unixSeconds(httpDate: text) else { return nil }
        return .nanoseconds(Int64(max(0, min(date - now, 9e9)) * 1e9))
    }

    /// An HTTP-date as Unix seconds.
    static func unixSeconds(httpDate text: Substring) -> Double? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let day: Int?
        let month: Int?
        var year: Int?
        let time: Substring
        switch parts.count {
        case 6 where parts[0].hasSuffix(",") && parts[5] == "GMT":
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            (day, month, year, time) = (Int(parts[1]), monthNumber(parts[2]), Int(parts[3]), parts[4])
        case 4 where parts[0].hasSuffix(",") && parts[3] == "GMT":
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (a two-digit year within 50 years ahead)
            let date = parts[1].split(separator: "-")
            guard date.count == 3, date[2].count == 2, let short = Int(date[2]) else { return nil }
            (day, month, time) = (Int(date[0]), monthNumber(date[1]), parts[2])
            year = short + (short < 70 ? 2000 : 1900)
        case 5:
            // asctime: Sun Nov  6 08:49:37 1994
            (day, month, year, time) = (Int(parts[2]), monthNumber(parts[1]), Int(parts[4]), parts[3])
        default:
            return nil
        }
        let clock = time.split(separator: ":")
        guard let day, let month, let year, (1...31).contains(day), year >= 1970, clock.count == 3,
            let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3_600 + minute * 60 + second)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func monthNumber(_ name: Substring) -> Int? {
        months.firstIndex { $0 == name }.map { $0 + 1 }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The wall clock, in Unix seconds (an HTTP-date is wall-clock time).
    @Sendable
    static func wallClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
