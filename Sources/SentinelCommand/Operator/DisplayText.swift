import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// How values of the admin API read in tables and status lines.
enum DisplayText {
    /// A JSON value in a table cell: numbers without a needless `.0`, strings
    /// bare, `null` (or absent) as `-`, arrays and objects as compact JSON.
    static func value(_ value: JSONValue) -> String {
        switch value {
        case .null: "-"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): self.number(number)
        case .string(let text): text
        case .array, .object: value.jsonString()
        }
    }

    /// Text with its line breaks as spaces: a reason with line breaks would
    /// break a table's or the audit's one line per item.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    /// A number as short as it reads exactly: `3`, `0.25`, `1e+20`.
    static func number(_ number: Double) -> String {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
            return String(Int64(number))
        }
        return String(number)
    }

    /// A duration in seconds, roughly: `42s`, `5m`, `3h 4m`, `2d 3h`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int64(abs(seconds).rounded(.down))
        switch total {
        case ..<60: return "\(total)s"
        case ..<3600: return "\(total / 60)m"
        case ..<86_400: return total % 3600 / 60 == 0 ? "\(total / 3600)h" : "\(total / 3600)h \(total % 3600 / 60)m"
        default: return total % 86_400 / 3600 == 0 ? "\(total / 86_400)d" : "\(total / 86_400)d \(total % 86_400 / 3600)h"
        }
    }

    /// How long ago an RFC 3339 time was: `just now`, `5m ago`, `in 3s` (a
    /// clock ahead of ours); the text itself when it is not a time.
    static func ago(_ time: String, now: Double = DisplayText.now()) -> String {
        guard let then = RFC3339.unixSeconds(from: time) else { return time }
        let elapsed = now - then
        if abs(elapsed) < 1 { return "just now" }
        return elapsed > 0 ? "\(duration(elapsed)) ago" : "in \(duration(-elapsed))"
    }

    /// The wall-clock time in Unix seconds.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
