import Sentinel

/// One audit entry as one readable line:
///
/// ```
/// 2026-12-04T10:00:00.000Z  operator:alice    automation.freeze     -                             applied   incident 42
/// ```
///
/// time, actor, action, target (`-` when none), outcome, reason. The columns
/// have fixed minimum widths rather than widths measured over a batch, so
/// that entries printed as they happen (`--follow`) line up with the ones
/// before them; a longer value pushes the rest of its line to the right.
enum AuditLine {
    static let widths = (actor: 16, action: 20, target: 30, outcome: 8)

    /// The line of `entry` (a JSON object as in the audit log).
    static func format(_ entry: JSONValue) -> String {
        let cells = [
            entry["time"].stringValue ?? "-",
            pad(entry["actor"].stringValue ?? "-", widths.actor),
            pad(entry["action"].stringValue ?? "-", widths.action),
            pad(entry["target"].stringValue ?? "-", widths.target),
            pad(entry["outcome"].stringValue ?? "-", widths.outcome),
            DisplayText.oneLine(entry["reason"].stringValue ?? ""),
        ]
        var line = cells.joined(separator: "  ")
        while line.last == " " { line.removeLast() }
        return line
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
