import ArgumentParser
import Logging
import Sentinel
import Simulation

#if canImport(Glibc)
import Glibc
#endif

/// `sentinel simulate SCENARIO [--policies DIR] [--json] [--seed N]`
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a scenario on a virtual clock: the real policies and scripts against simulated backends.",
        discussion: """
            Runs the scenario's pipelines (the same policy code as production) against simulated \
            backends and traffic, evaluates the Lua scripts on their intervals through the \
            control plane, and checks the scenario's `expect` assertions at the end. The same \
            scenario and seed give the same output, byte for byte. The format is in docs/scenarios.md.

            Exit codes: 0 every expectation held, 1 one failed (or a script hit its wall-clock \
            deadline, which would make the run unrepeatable), 2 a malformed scenario, a usage \
            error or a missing file.

            Example:
              sentinel simulate examples/recipes/canary/healthy.yaml
              sentinel simulate examples/recipes/canary/regression.yaml --json --seed 7
              sentinel simulate examples/recipes/canary/errors.yaml --report canary-errors.html
            """
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "Folder of Lua scripts (overrides the scenario's `policies`).")
    var policies: String?

    @Flag(help: "JSON Lines: one object per event, a summary object last.")
    var json = false

    @Option(help: "Seed of every random choice (overrides the scenario's `seed`).")
    var seed: UInt64?

    @Option(
        name: .customLong("report"),
        help: ArgumentHelp("Also write the run as one self-contained HTML page: charts and decisions.", valueName: "file.html"))
    var reportPath: String?

    func run() async throws {
        let text: String
        switch ScriptFile.read(path: scenario, maximumFileSize: 4 << 20) {
        case .success(let file):
            switch file.text {
            case .success(let decoded): text = decoded
            case .failure(let invalid): fail("\(scenario):\(invalid.line): \(invalid)")
            }
        case .failure(let error):
            fail("\(scenario): \(error.message)")
        }
        let parsed: Scenario
        do {
            parsed = try Scenario(yaml: text, file: scenario)
        } catch {
            fail("\(error)")
        }
        let folder = policies ?? Self.resolve(parsed.policies, against: scenario)
        let simulation: Simulation
        do {
            // The run's output is its events; the runtime's own log lines would only interleave with them.
            let quiet = Logger(label: "sentinel.simulate") { _ in SwiftLogNoOpLogHandler() }
            simulation = try Simulation(scenario: parsed, policies: folder, seed: seed, logger: quiet)
        } catch {
            fail("\(error)")
        }
        let htmlReport = prepareReport(simulation)
        let interactive = isatty(1) == 1 && isatty(2) == 1 && !json
        var renderer = TimelineRenderer(color: interactive && getenv("NO_COLOR") == nil)
        var progress = ProgressBar(enabled: interactive && parsed.duration >= 600)
        let report: SimulationReport
        do {
            report = try await simulation.run(progress: { progress.show($0) }) { event in
                if json {
                    print(event.json)
                } else {
                    let lines = renderer.lines(for: event, scenario: parsed)
                    if !lines.isEmpty { progress.clear() }
                    for line in lines { print(line) }
                }
            }
        } catch {
            fail("\(error)")
        }
        progress.clear()
        htmlReport?.write(simulation)
        if !report.passed { throw ExitCode(1) }
    }

    /// A scenario's `policies` is relative to the scenario file's folder.
    static func resolve(_ path: String, against file: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let slash = file.lastIndex(of: "/") else { return path }
        let folder = String(file[..<slash])
        return path == "." ? folder : folder + "/" + path
    }

    private func fail(_ message: String) -> Never {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        Glibc.exit(2)
    }
}

/// `[█████████░░░░░░░░░░░]  45%` on standard error, redrawn in place.
struct ProgressBar {
    let enabled: Bool
    private var shown = -1

    init(enabled: Bool) { self.enabled = enabled }

    mutating func show(_ fraction: Double) {
        guard enabled else { return }
        let percent = Int(fraction * 100)
        guard percent != shown else { return }
        shown = percent
        let filled = percent / 5
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 20 - filled)
        let text = "\r[\(bar)] \(percent)%"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    mutating func clear() {
        guard enabled, shown >= 0 else { return }
        shown = -1
        let text = "\r\u{1B}[K"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}
