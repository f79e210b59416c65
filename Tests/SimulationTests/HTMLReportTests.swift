import Crypto
import Foundation
import Resilience
import Sentinel
import Testing

@testable import Simulation

#if canImport(Glibc)
import Glibc
#endif

@Suite struct HTMLReportTests {
    /// `sha256-BASE64` of the text's UTF-8 bytes, as CSP writes a hash source.
    static func sha256(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }

    /// A canary-like rule whose reason, evidence and alert carry markup.
    static let hostileRule = """
        return {
          name = "hostile",
          interval = "10s",
          evaluate = function(state, memory)
            memory.n = (memory.n or 0) + 1
            if memory.n == 3 then
              sentinel.set("api.split.canary_weight", 20, { reason = "<script>alert(1)</script>",
                evidence = { ["<b>key</b>"] = "<img src=x onerror=alert(2)>", calls = state.pipelines.api.windows["1m"].calls } })
              sentinel.set("api.split.stable_weight", 80, "x")
              sentinel.alert("warning", "</script><script>alert(3)</script>", { note = "&amp; <!--" })
            elseif memory.n == 6 then
              sentinel.set("api.split.canary_weight", 0, "back")
              sentinel.set("api.split.stable_weight", 100, "back")
            end
          end,
        }
        """

    static let scenario = """
        name: "report <test> & co"
        description: "A split, a rule and an outage: <em>not</em> markup"
        duration: 2m
        seed: 3
        pipelines:
          api:
            policies:
              - timeout: { duration: 1s }
              - split: { stable: 100, canary: 0 }
            backends:
              stable: { latency: { distribution: lognormal, p50: 20ms, p99: 80ms }, error_rate: 0.01 }
              canary: { latency: 30ms, error_rate: 0.05 }
            traffic: { rate: 50, keys: 100 }
        events:
          - at: 40s
            backend: api.canary
            set: { error_rate: 0.5 }
        """

    struct Recorded {
        var events: [SimulationEvent]
        var recording: RunRecording
        var html: String { HTMLReport(recording).html }
    }

    func record(_ yaml: String = scenario, scripts: [String: String]? = nil, seed: UInt64? = nil) async throws -> Recorded {
        let folder = try ScriptFolder(scripts ?? ["hostile.lua": Self.hostileRule])
        defer { folder.remove() }
        let simulation = try Simulation(
            scenario: try Scenario(yaml: yaml, file: "report.yaml"), policies: folder.path, seed: seed, logger: .silent)
        simulation.recordForReport()
        var events: [SimulationEvent] = []
        _ = try await simulation.run { events.append($0) }
        return Recorded(events: events, recording: try #require(simulation.recording))
    }

    // MARK: - Untrusted text

    @Test func markupFromScriptsAndScenariosIsShownAsText() async throws {
        let html = try await record().html
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>"))
        #expect(!html.contains("<em>"))
        #expect(html.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(html.contains("&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt;"))
        #expect(html.contains("report &lt;test&gt; &amp; co"))
        // Exactly the page's two script elements: the data block and its own code.
        #expect(html.ranges(of: "<script").count == 2)
        #expect(html.ranges(of: "</script>").count == 2)
    }

    @Test func theDataBlockCannotEndItsScriptElement() {
        let value: JSONValue = ["label": "</script><!-- & -->", "list": ["<b>"]]
        let text = HTMLText.scriptJSON(value)
        #expect(!text.contains("<") && !text.contains(">") && !text.contains("&"))
        #expect(text.contains("\\u003c/script\\u003e"))
        #expect((try? JSONValue(json: text)) == value)
    }

    @Test(arguments: [
        ("<script>", "&lt;script&gt;"), ("a & b", "a &amp; b"), ("\"'", "&quot;&#39;"), ("ünï ✓", "ünï ✓"),
    ])
    func escapingLeavesOnlyText(input: String, escaped: String) {
        #expect(HTMLText.escape(input) == escaped)
    }

    @Test func controlCharactersBecomeReplacementCharacters() {
        #expect(HTMLText.escape("tab\tand\nline\r") == "tab\tand\nline\r")
        #expect(HTMLText.escape("nul\u{0}bell\u{7}esc\u{1B}del\u{7F}") == "nul\u{FFFD}bell\u{FFFD}esc\u{FFFD}del\u{FFFD}")
    }

    // MARK: - Content

    @Test func chartsMarksAndListAreThere() async throws {
        let recorded = try await record()
        let html = recorded.html
        for id in ["p1-api-traffic", "p1-api-errors", "p1-api-p99"] {
            #expect(html.contains("<figure class=\"chart\" id=\"\(id)\""), "\(id)")
        }
        // Both weights changed (charts shown), the timeout did not (listed as unchanged).
        #expect(html.contains("id=\"k1-api_split_canary_weight\""))
        #expect(html.contains("id=\"k2-api_split_stable_weight\""))
        #expect(html.contains("1 knob kept its starting value"))
        // Every decision has a row, and every mark links to one.
        let decisions = recorded.recording.decisions
        #expect(decisions.count >= 6)
        for index in decisions.indices { #expect(html.contains("<tr id=\"d-\(index + 1)\"")) }
        let links = html.split(separator: "<a class=\"mark mark-").dropFirst()
        #expect(!links.isEmpty)
        for link in links {
            let anchor = link.split(separator: "\"")[2]  // kind", href="#d-N"
            #expect(anchor.hasPrefix("#d-"), "\(link.prefix(80))")
            #expect(html.contains("<tr id=\"\(anchor.dropFirst())\""))
        }
        #expect(html.contains("class=\"mark mark-raised\""))
        #expect(html.contains("class=\"mark mark-lowered\""))
        #expect(html.contains("class=\"mark mark-scenario\""))
        #expect(html.contains("Passed (no expectations)"))
    }

    @Test func theRecordingAddsUpToTheRunsTotals() async throws {
        let recorded = try await record()
        let recording = recorded.recording
        let summary = try #require(recorded.events.last)
        let calls = try #require(summary["calls"]?.objectValue)
        let pipeline = try #require(recording.pipelines.first)
        #expect(pipeline.overall.calls.reduce(0, +) == Int(calls["api"]?.number ?? -1))
        for series in pipeline.variants {
            #expect(series.calls.reduce(0, +) == Int(calls[series.name]?.number ?? -1), "\(series.name)")
        }
        #expect(recording.interval == 0.5 && recording.times.count == 240 && recording.times.last == 120)
        // The knob's steps are the commands' from → to, at their times.
        let canary = try #require(recording.knobs.first { $0.name == "api.split.canary_weight" })
        let changes = recorded.events.filter { $0.type == "command" && $0["target"] == .string("api.split.canary_weight") }
        #expect(canary.live.map(\.value) == [0] + changes.compactMap { $0["to"]?.number })
        #expect(canary.live.dropFirst().map(\.t) == changes.map(\.t))
    }

    @Test func recordingChangesNothingInTheRun() async throws {
        let folder = try ScriptFolder(["hostile.lua": Self.hostileRule])
        defer { folder.remove() }
        let plain = try await simulate(try Scenario(yaml: Self.scenario, file: "report.yaml"), policies: folder.path)
        let recorded = try await record()
        #expect(plain.json == recorded.events.map(\.json))
    }

    @Test func oneSeedOneReportByteForByte() async throws {
        let first = try await record().html
        let second = try await record().html
        #expect(first == second)
        let other = try await record(seed: 4).html
        #expect(other != first)
    }

    @Test func aScenarioWithoutTrafficOrKnobsStillRenders() async throws {
        let yaml = """
            duration: 30s
            pipelines:
              quiet:
                backend: { latency: 10ms }
                traffic: { rate: 0 }
            """
        let recorded = try await record(yaml, scripts: [:])
        let html = recorded.html
        #expect(recorded.recording.knobs.isEmpty)
        #expect(html.contains("This scenario's pipelines have no knobs."))
        #expect(html.contains("No decisions"))
        #expect(html.contains("<figure class=\"chart\" id=\"p1-quiet-traffic\""))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func decisionsSayWhatKindTheyAreAndWhatTheyChanged() {
        func decision(_ type: String, _ fields: [String: JSONValue]) -> ReportDecision {
            ReportDecision(
                index: 0, event: SimulationEvent(type: type, t: 30, fields: fields),
                knobNames: ["api.timeout.duration", "api.split.canary_weight"], pipelineNames: ["api"])
        }
        let start = decision(
            "trial",
            [
                "action": "trial.start", "outcome": "applied", "target": "tighter",
                "args": ["name": "tighter", "params": ["api.timeout.duration": 0.5], "window": "10m"],
            ])
        #expect(start.kind == .trial && start.change == "shadow api.timeout.duration = 0.5")
        #expect(start.knobs == ["api.timeout.duration"] && start.pipelines == ["api"])
        let promote = decision(
            "trial",
            [
                "action": "trial.promote", "outcome": "applied", "target": "tighter",
                "changes": ["api.timeout.duration": ["from": 2, "to": 0.5]],
            ])
        #expect(promote.kind == .promoted && promote.change == "api.timeout.duration 2 → 0.5")
        #expect(decision("trial", ["action": "trial.rollback", "outcome": "applied"]).kind == .rolledBack)
        let rejected = decision(
            "command",
            [
                "action": "param.set", "outcome": "rejected", "target": "api.split.canary_weight",
                "args": ["param": "api.split.canary_weight", "value": 500],
            ])
        #expect(rejected.kind == .refused && rejected.change == "param=api.split.canary_weight value=500")
        #expect(decision("command", ["action": "param.set", "outcome": "dry_run"]).kind == .dryRun)
        #expect(decision("command", ["action": "param.set", "outcome": "applied", "from": 5, "to": 1]).kind == .lowered)
        let alert = decision("alert", ["severity": "critical", "message": "down", "script": "guard"])
        #expect(alert.kind == .critical && alert.actor == "script:guard" && alert.reason == "down" && alert.pipelines.isEmpty)
        let event = decision("event", ["what": "backend", "target": "api.canary", "set": ["error_rate": 0.5]])
        #expect(event.kind == .scenario && event.change == "error_rate=0.5" && event.pipelines == ["api"])
        #expect(decision("script", ["action": "script.evaluate", "outcome": "failed"]).kind == .failure)
    }

    // MARK: - Drawing

    @Test func aKnobThatChangesOftenStaysAsLongAsTheChartIsWide() {
        var points: [(t: Double, value: Double?)] = []
        for i in 0..<200_000 { points.append((Double(i) * 0.01, Double(i % 7))) }
        let chart = ReportChart(
            id: "k", title: "k", caption: "", scale: .knob(.integer), duration: 2_000,
            lines: [.init(label: "live", points: points, step: true, style: "s0")], marks: [], plotHeight: 80)
        let path = chart.stepPath(points, chart.domain)
        // One horizontal and three vertical strokes per half-pixel column at most
        // (1,744 columns), where drawing every change would take millions of characters.
        #expect(path.count < 80_000, "\(path.count) characters")
        #expect(path.hasPrefix("M72 "))
        #expect(path.hasSuffix("H944"))
    }

    @Test func roundAxesAndValues() {
        #expect(ReportChart.niceCeiling(0.034) == 0.04)
        #expect(ReportChart.niceCeiling(17) == 20)
        #expect(ReportChart.niceCeiling(0) == 1)
        #expect(ReportChart.timeTicks(1_800) == [0, 300, 600, 900, 1_200, 1_500, 1_800])
        #expect(ReportChart.compactCount(12_345) == "12k")
        #expect(RunRecording.interval(forDuration: 1_800) == 10)
        #expect(RunRecording.window(forInterval: 10) == .tenSeconds)
    }

    // MARK: - Policy and files

    @Test func thePolicyAllowsExactlyThePagesOwnScriptAndStyle() async throws {
        #expect(Self.sha256("abc") == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        #expect(HTMLReport.scriptHash == Self.sha256(HTMLReport.script), "the script changed: update scriptHash")
        #expect(HTMLReport.styleSheetHash == Self.sha256(HTMLReport.styleSheet), "the styles changed: update styleSheetHash")
        let html = try await record().html
        #expect(html.contains("<script>\(HTMLReport.script)</script>"))
        #expect(html.contains("<style>\(HTMLReport.styleSheet)</style>"))
        #expect(html.contains("script-src '\(Self.sha256(HTMLReport.script))'"))
        #expect(html.contains("style-src '\(Self.sha256(HTMLReport.styleSheet))'"))
        #expect(html.contains("default-src 'none'"))
        #expect(!html.contains("style=\""))  // inline style attributes would be refused by the policy
        #expect(!html.contains("http://") && !html.contains("https://"))
    }

    @Test func writesTheFileWholeAndLeavesNothingElse() async throws {
        let folder = try ScriptFolder()
        defer { folder.remove() }
        let report = HTMLReport(try await record().recording)
        let path = folder.path + "/run.html"
        try report.write(to: path)
        try report.write(to: path)  // over an existing report
        #expect(try folder.read("run.html") == report.html)
        #expect(folder.names() == ["run.html"])
    }

    @Test func aPathThatCannotBeWrittenIsNamed() throws {
        let folder = try ScriptFolder(["plain": "a file, not a folder"])
        defer { folder.remove() }
        let cases: [(String, ReportError.Code, String)] = [
            ("", .invalidPath, "the path is empty"),
            (folder.path, .invalidPath, "cannot write the report to \(folder.path): it is a folder"),
            (folder.path + "/", .invalidPath, "names a folder"),
            (folder.path + "/missing/run.html", .missingFolder, "the folder \(folder.path)/missing does not exist"),
            (folder.path + "/plain/run.html", .missingFolder, "\(folder.path)/plain is not a folder"),
            ("/dev/null", .invalidPath, "cannot write the report to /dev/null: it exists and is not a regular file"),
        ]
        for (path, code, message) in cases {
            #expect(throws: ReportError.self) { try HTMLReport.checkDestination(path) }
            do {
                try HTMLReport.checkDestination(path)
            } catch {
                #expect(error.code == code, "\(path)")
                #expect(error.description.contains(message), "\(error)")
                #expect(error.description.contains("cannot write the report to \(path)"))
            }
        }
        #expect(throws: ReportError.self) { try HTMLReport(Self.emptyRecording).write(to: folder.path + "/missing/run.html") }
    }

    static let emptyRecording = RunRecording(
        scenario: "empty", seed: 1, duration: 1, start: 0, interval: 0.1, window: .tenSeconds, pipelines: [])

    @Test func anEmptyRecordingRendersAPage() {
        let html = HTMLReport(Self.emptyRecording).html
        #expect(html.contains("This scenario has no pipelines."))
        #expect(html.contains("The run did not finish"))
    }
}
