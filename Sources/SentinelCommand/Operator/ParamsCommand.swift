import ArgumentParser
import Sentinel

/// `sentinel params [PATTERN]`
struct ParamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "List the knobs: value, shadow, bounds and the last change.",
        discussion: """
            Reads GET /v1/params and prints one line per knob, sorted by name: NAME VALUE SHADOW \
            MIN MAX LAST CHANGE (who, how long ago, why). PATTERN is a knob pattern as in guards: \
            `*` matches any run of characters, dots included, and a pattern without `*` names one \
            knob. With --json: the server's object as received, or with a PATTERN the object of \
            the matching knobs only.

            Exit codes: 0 done (also when no knob matches), 2 usage, 3 server unreachable or \
            token not accepted.

            Example:
              sentinel params
              sentinel params 'checkout.*'
              sentinel params '*.retry.max_attempts' --json
            """
    )

    @Argument(help: "A knob pattern (`checkout.*`, `*.timeout.duration`); all knobs when omitted.")
    var pattern: String?

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print JSON: the server's object as received, or only the matching knobs with a pattern.")
    var json = false

    func run() async throws {
        try await AdminSession.run(connection) { client in
            let response = try await client.get("/v1/params").successful()
            if json && pattern == nil {
                print(response.text)
                return
            }
            let params = try response.jsonObject()
            let matching = ParamsTable.matching(params, pattern: pattern)
            if json {
                print(JSONValue.object(matching).jsonString())
                return
            }
            if matching.isEmpty, let pattern {
                StandardError.write("no knob matches \(pattern) (of \(params.count))")
                return
            }
            for line in ParamsTable.lines(matching) { print(line) }
        }
    }
}

/// The table of `sentinel params`.
enum ParamsTable {
    /// The knobs whose names match `pattern` (all without one).
    static func matching(_ params: [String: JSONValue], pattern: String?) -> [String: JSONValue] {
        guard let pattern else { return params }
        let namePattern = NamePattern(pattern)
        return params.filter { namePattern.matches($0.key) }
    }

    /// Header and one line per knob, sorted by name.
    static func lines(_ params: [String: JSONValue], now: Double = DisplayText.now()) -> [String] {
        var table = TextTable(["NAME", "VALUE", "SHADOW", "MIN", "MAX", "LAST CHANGE"])
        for name in params.keys.sorted() {
            let knob = params[name] ?? .null
            table.append([
                name, DisplayText.value(knob["value"]), DisplayText.value(knob["shadow"]),
                DisplayText.value(knob["min"]), DisplayText.value(knob["max"]), lastChange(knob["last_change"], now: now),
            ])
        }
        return table.lines
    }

    /// `script:canary 2m ago: canary healthy at 1%`, or `-`.
    static func lastChange(_ change: JSONValue, now: Double) -> String {
        guard change != .null else { return "-" }
        var text = change["actor"].stringValue ?? "?"
        if let time = change["time"].stringValue { text += " \(DisplayText.ago(time, now: now))" }
        if let reason = change["reason"].stringValue, !reason.isEmpty { text += ": \(DisplayText.oneLine(reason))" }
        return text
    }
}
