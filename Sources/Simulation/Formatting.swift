/// Short human forms for the timeline: `40ms`, `1.5s`, `2.4%`, `12:30`.

/// Seconds as `850µs`, `40ms`, `1.5s`, `2m`, `1h30m`.
func formatSeconds(_ seconds: Double) -> String {
    if seconds == 0 { return "0s" }
    if seconds < 0.001 { return "\(trimmed(seconds * 1e6, digits: 0))µs" }
    if seconds < 1 { return "\(trimmed(seconds * 1e3, digits: 1))ms" }
    if seconds < 60 { return "\(trimmed(seconds, digits: 2))s" }
    // Past a million hours (or not a number), words would not help: print the number.
    guard seconds < 3.6e9 else { return "\(seconds) s" }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return whole % 60 == 0 ? "\(whole / 60)m" : "\(whole / 60)m\(whole % 60)s" }
    return whole % 3600 == 0 ? "\(whole / 3600)h" : "\(whole / 3600)h\((whole % 3600) / 60)m"
}

/// A ratio as a percentage: `0.4%`, `12%`.
func formatPercent(_ ratio: Double) -> String {
    let percent = ratio * 100
    return "\(trimmed(percent, digits: percent < 10 ? 2 : 1))%"
}

/// Virtual time as `m:ss`, or `h:mm:ss` past an hour.
func formatClock(_ t: Double) -> String {
    let whole = Int(t.rounded(.down))
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60)
    let ss = s < 10 ? "0\(s)" : "\(s)"
    if h > 0 { return "\(h):\(m < 10 ? "0" : "")\(m):\(ss)" }
    return "\(m):\(ss)"
}

/// A number with at most `digits` decimals and no trailing zeros: `1`, `0.25`, `12.5`.
func trimmed(_ value: Double, digits: Int) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if rounded == rounded.rounded(), abs(rounded) < 1e15 { return "\(Int64(rounded))" }
    var text = "\(rounded)"
    if text.contains("e") { return text }
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}

/// Whole numbers with thin grouping: `1,234,567`.
func formatCount(_ value: Int) -> String {
    let digits = String(abs(value))
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return value < 0 ? "-" + out : out
}
