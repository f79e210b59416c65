import Resilience
import Sentinel

/// A simulated run as one self-contained HTML page: the verdict, charts
/// (SVG) of traffic, error rate and p99 per pipeline and variant, every
/// knob's live and shadow value as steps, and every decision marked on the
/// charts and listed with its reason and evidence.
///
/// The page needs nothing but itself: its style sheet and small script are
/// inline, and its Content-Security-Policy allows only those two (by hash),
/// so it opens from `file://` and nothing a scenario or script wrote can run
/// in it. All such text (names, reasons, evidence, alert messages) is
/// escaped. The same recording gives the same bytes.
///
/// ```swift
/// simulation.recordForReport()
/// _ = try await simulation.run { _ in }
/// try HTMLReport(simulation.recording!).write(to: "report.html")
/// ```
public struct HTMLReport: Sendable {
    public let recording: RunRecording

    public init(_ recording: RunRecording) {
        self.recording = recording
    }

    /// The page.
    public var html: String {
        let decisions = decisionList()
        let charts = pipelineCharts(decisions)
        let knobCharts = self.knobCharts(decisions)
        var body = header()
        body += "<main>\n"
        body += summarySection()
        body += "<section id=\"pipelines\">\n<h2>Pipelines</h2>\n"
        body += "<p class=\"note\">\(HTMLText.escape(samplingNote))</p>\n"
        if charts.isEmpty { body += "<p>This scenario has no pipelines.</p>\n" }
        for (pipeline, pipelineCharts) in charts {
            body += "<h3>Pipeline <code>\(HTMLText.escape(pipeline))</code></h3>\n"
            for chart in pipelineCharts { body += chart.html }
        }
        body += "</section>\n"
        body += knobSection(knobCharts)
        body += decisionSection(decisions)
        body += "</main>\n"
        let data = chartData(charts.flatMap { $0.1 } + knobCharts.map { $0.chart })
        body += "<script type=\"application/json\" id=\"report-data\">\(HTMLText.scriptJSON(data))</script>\n"
        body += "<script>\(Self.script)</script>\n"

        var page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        page += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(Self.contentSecurityPolicy)\">\n"
        page += "<meta name=\"generator\" content=\"sentinel simulate --report\">\n"
        page += "<title>\(HTMLText.escape("Simulation report · " + recording.scenario))</title>\n"
        page += "<link rel=\"icon\" href=\"data:,\">\n"
        page += "<style>\(Self.styleSheet)</style>\n</head>\n<body>\n"
        return page + body + "</body>\n</html>\n"
    }

    /// Only the page's own style sheet and script, by hash; no network, no frames, no forms.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src '\(scriptHash)'; style-src '\(styleSheetHash)'; img-src data:; "
        + "base-uri 'none'; form-action 'none'"

    // `sha256-BASE64` of `script` and `styleSheet`, as CSP writes a hash source.
    // Constants, so that the simulator links no cryptography library;
    // HTMLReportTests computes both with swift-crypto and fails, printing the
    // new value, when either text changes.
    static let scriptHash = "sha256-sLtOzP+9KMbl/vzjPW3CEH70eC2fhX5CtpzKGFYWWJQ="
    static let styleSheetHash = "sha256-xjA0HupWY/3zPfjytwl64WdHZo6W4vBjRbfkrGHKvC4="

    // MARK: - Header and summary

    private var samplingNote: String {
        "Charts sample every \(formatSeconds(recording.interval)): calls and error rate over each interval, "
            + "p99 from the observer's \(recording.window.rawValue) window at its end. "
            + "Marks above a chart are decisions; select one to see it in the list."
    }

    private func header() -> String {
        var out = "<header>\n<h1>\(HTMLText.escape(recording.scenario))</h1>\n"
        if let description = recording.description { out += "<p>\(HTMLText.escape(description))</p>\n" }
        var meta = [
            "\(formatSeconds(recording.duration)) of virtual time", "seed \(recording.seed)",
            "from \(RFC3339.string(fromUnixSeconds: recording.start))",
        ]
        meta.append(recording.scripts.isEmpty ? "no scripts" : "scripts: " + recording.scripts.joined(separator: ", "))
        out += "<p class=\"meta\">\(HTMLText.escape(meta.joined(separator: " · ")))</p>\n"
        if let summary = recording.summary {
            let passed = summary["passed"] == .bool(true)
            let results = summary["expect"]?.arrayValue ?? []
            let failed = results.filter { $0["passed"] != .bool(true) }.count
            let text =
                passed
                ? "✓ Passed"
                    + (results.isEmpty
                        ? " (no expectations)" : results.count == 1 ? ": 1 expectation held" : ": all \(results.count) expectations held")
                : "✗ Failed" + (results.isEmpty ? "" : ": \(failed) of \(results.count) expectations")
            out += "<p class=\"verdict \(passed ? "pass" : "fail")\">\(HTMLText.escape(text))</p>\n"
        } else {
            out += "<p class=\"verdict fail\">✗ The run did not finish</p>\n"
        }
        out += "</header>\n<nav aria-label=\"Sections\"><a href=\"#summary\">Summary</a><a href=\"#pipelines\">Pipelines</a>"
        out += "<a href=\"#knobs\">Knobs</a><a href=\"#decisions\">Decisions</a></nav>\n"
        return out
    }

    private func summarySection() -> String {
        var out = "<section id=\"summary\">\n<h2>Summary</h2>\n"
        guard let summary = recording.summary else { return out + "<p>No summary: the run did not finish.</p>\n</section>\n" }
        if case .array(let results)? = summary["expect"], !results.isEmpty {
            out += "<h3>Expectations</h3>\n<ul class=\"expectations\">\n"
            for result in results {
                let passed = result["passed"] == .bool(true)
                out += "<li><span class=\"\(passed ? "pass-mark" : "fail-mark")\">\(passed ? "✓ held" : "✗ failed")</span> "
                out += "<code>\(HTMLText.escape(result["assertion"].plainText))</code> "
                out += "<span class=\"note\">(actual \(HTMLText.escape(result["actual"].plainText)))</span></li>\n"
            }
            out += "</ul>\n"
        }
        if case .array(let errors)? = summary["errors"], !errors.isEmpty {
            out += "<h3>Errors of the run</h3>\n<ul>\n"
            for error in errors { out += "<li class=\"fail-mark\">\(HTMLText.escape(error.plainText))</li>\n" }
            out += "</ul>\n"
        }
        if case .object(let calls)? = summary["calls"], !calls.isEmpty {
            let rates = summary["error_rate"]?.objectValue ?? [:]
            let inFlight = summary["in_flight"]?.objectValue ?? [:]
            out += "<h3>Totals</h3>\n<table class=\"totals\">\n"
            out += "<tr><th>pipeline or variant</th><th class=\"num\">calls</th><th class=\"num\">errors</th>"
            out += "<th class=\"num\">in flight at the end</th></tr>\n"
            for name in calls.keys.sorted() {
                out += "<tr><td><code>\(HTMLText.escape(name))</code></td>"
                out += "<td class=\"num\">\(formatCount(Int(calls[name]?.number ?? 0)))</td>"
                out += "<td class=\"num\">\(HTMLText.escape(formatPercent(rates[name]?.number ?? 0)))</td>"
                out += "<td class=\"num\">\(inFlight[name].map { formatCount(Int($0.number ?? 0)) } ?? "")</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</section>\n"
    }

    // MARK: - Charts

    /// Decisions in order, with what they concern.
    func decisionList() -> [ReportDecision] {
        let knobs = Set(recording.knobs.map(\.name))
        let pipelines = Set(recording.pipelines.map(\.name))
        return recording.decisions.enumerated().map {
            ReportDecision(index: $0.offset, event: $0.element, knobNames: knobs, pipelineNames: pipelines)
        }
    }

    private func marks(_ decisions: [ReportDecision], where include: (ReportDecision) -> Bool) -> [ReportMark] {
        decisions.filter(include).map {
            ReportMark(t: $0.t, kind: $0.kind, anchor: $0.anchor, text: $0.summaryLine(duration: recording.duration))
        }
    }

    /// Traffic, error rate and p99 for each pipeline, in scenario order.
    func pipelineCharts(_ decisions: [ReportDecision]) -> [(String, [ReportChart])] {
        let times = recording.times
        let interval = formatSeconds(recording.interval)
        return recording.pipelines.enumerated().map { offset, pipeline in
            let marks = marks(decisions) { $0.pipelines.isEmpty || $0.pipelines.contains(pipeline.name) }
            let judged = pipeline.variants.isEmpty ? [pipeline.overall] : pipeline.variants
            func style(_ index: Int) -> String { "s\(index % 6)" }
            func label(_ series: RunRecording.Series) -> String { series.variant ?? "all calls" }
            var traffic = [
                ReportChart.Line(
                    label: "all calls", points: zip(times, pipeline.overall.calls).map { ($0, Double($1)) }, step: false,
                    style: pipeline.variants.isEmpty ? "s0" : "total")
            ]
            if !pipeline.variants.isEmpty {
                traffic += pipeline.variants.enumerated().map { index, series in
                    .init(label: label(series), points: zip(times, series.calls).map { ($0, Double($1)) }, step: false, style: style(index))
                }
            }
            let errors = judged.enumerated().map { index, series in
                ReportChart.Line(
                    label: label(series),
                    points: times.indices.map { i in
                        (times[i], series.calls[i] > 0 ? Double(series.failures[i]) / Double(series.calls[i]) : nil)
                    }, step: false, style: style(index))
            }
            let latency = judged.enumerated().map { index, series in
                ReportChart.Line(label: label(series), points: Array(zip(times, series.p99)), step: false, style: style(index))
            }
            let id = "p\(offset + 1)-\(HTMLText.identifier(pipeline.name))"
            let duration = recording.duration
            return (
                pipeline.name,
                [
                    ReportChart(
                        id: "\(id)-traffic", title: "\(pipeline.name): traffic", caption: "calls finished per \(interval)",
                        scale: .count, duration: duration, lines: traffic, marks: marks, plotHeight: 140),
                    ReportChart(
                        id: "\(id)-errors", title: "\(pipeline.name): error rate", caption: "failures ÷ calls per \(interval)",
                        scale: .percent, duration: duration, lines: errors, marks: marks, plotHeight: 140),
                    ReportChart(
                        id: "\(id)-p99", title: "\(pipeline.name): p99 latency",
                        caption: "observer's \(recording.window.rawValue) window", scale: .seconds, duration: duration,
                        lines: latency, marks: marks, plotHeight: 140),
                ]
            )
        }
    }

    /// One chart per knob, with whether it ever changed.
    func knobCharts(_ decisions: [ReportDecision]) -> [(chart: ReportChart, changed: Bool)] {
        recording.knobs.enumerated().map { offset, knob in
            var lines = [ReportChart.Line(label: "live", points: knob.live.map { ($0.t, $0.value) }, step: true, style: "s0")]
            if !knob.shadow.isEmpty {
                lines.append(.init(label: "shadow", points: knob.shadow.map { ($0.t, $0.value) }, step: true, style: "shadow"))
            }
            let range = "\(ReportChart.format(knob.minimum, .knob(knob.kind))) to \(ReportChart.format(knob.maximum, .knob(knob.kind)))"
            let chart = ReportChart(
                id: "k\(offset + 1)-\(HTMLText.identifier(knob.name))", title: knob.name,
                caption: "\(knob.kind.rawValue), bounds \(range)", scale: .knob(knob.kind), duration: recording.duration,
                lines: lines, marks: marks(decisions) { $0.knobs.contains(knob.name) }, plotHeight: 80)
            return (chart, knob.live.count > 1 || !knob.shadow.isEmpty)
        }
    }

    /// What the page's script reads for its hover readout.
    private func chartData(_ charts: [ReportChart]) -> JSONValue {
        func rounded(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite else { return .null }
            return .double((value * 1e6).rounded() / 1e6)
        }
        var byID: [String: JSONValue] = [:]
        for chart in charts {
            let lines: [JSONValue] = chart.lines.map { line in
                var object: [String: JSONValue] = [
                    "label": .string(line.label), "v": .array(line.points.map { rounded($0.value) }),
                ]
                if line.step { object["t"] = .array(line.points.map { rounded($0.t) }) }
                return .object(object)
            }
            byID[chart.id] = ["scale": .string(chart.scaleName), "lines": .array(lines)]
        }
        return [
            "duration": .double(recording.duration), "times": .array(recording.times.map { rounded($0) }),
            "charts": .object(byID),
        ]
    }
}
