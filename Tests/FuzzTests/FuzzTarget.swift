import Logging
import Resilience
import Sentinel
import Simulation

#if canImport(Glibc)
import Glibc
#endif

/// What the suite and `make fuzz` feed mutated input to. Each target must
/// return for every input (no trap, no hang: the work is bounded by the
/// input's size), and refuse bad input with an error that names the file and
/// the line.
enum FuzzTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `Scenario(yaml:file:)`, and a short run of what it accepts.
    case scenario
    /// `ControlPlaneConfiguration(yaml:file:)`.
    case config
    /// `JSONParser`, then the state file, an audit line and saved trials from what parses.
    case json
    /// A script loaded and validated as `sentinel check` does.
    case script

    var description: String { rawValue }

    /// The corpus folder: crashers found so far and hand-made edge cases.
    var corpusFolder: String { "Tests/Corpus/\(rawValue)" }

    /// Shipped files that seed the mutations besides the corpus.
    var shippedSeeds: [String] {
        switch self {
        case .scenario:
            [
                "examples/recipes/canary/healthy.yaml", "examples/recipes/ratchet-up/finds-capacity.yaml",
                "examples/recipes/failover/outage.yaml", "examples/scenarios/shadow-promote-frozen.yaml",
                "examples/recipes/safety-valve/spike.yaml",
            ]
        case .config: []
        case .json: []
        case .script:
            [
                "policies/shadow_promote.lua", "policies/retry_tuning.lua", "examples/recipes/canary/canary.lua",
                "examples/recipes/blue-green/blue_green.lua",
            ]
        }
    }

    /// Tokens worth inserting into this kind of input.
    var dictionary: [String] {
        switch self {
        case .scenario, .config:
            [
                "&a ", "*a", "<<: *a", "? ", ": ", "- ", "[", "]", "{", "}", "!!str ", "!!binary ", "|", ">", "---", "...",
                "duration: ", "min_interval: ", "memory: ", "deadline: ", "p99: ", "sample: ", "keys: ", "window: ",
                "params: ", "commands: ", "rate: ", "at: ", "1h", "250ms", "GiB", "\"*\"",
            ]
        case .json:
            [
                "{", "}", "[", "]", ":", ",", "\"", "\\u0000", "\\ud800", "1e999", "-1e999", "true", "false", "null",
                "\"trials\"", "\"parameters\"", "\"started_at\"", "\"violations\"", "\"window\"", "\"status\"", "\"held_since\"",
            ]
        case .script:
            [
                "(", ")", "{", "}", "end", "function() ", "return ", "interval = ", "1e10", "\"2562048h\"",
                "sentinel.set(", "sentinel.trial{", "sentinel.command(", "string.rep(", "(\"a\"):rep(3000):find(\"a-a-a-b\")",
                "setmetatable({}, {__index = function(t, k) return t[k] end})", "while true do end", "..", "#", "%b()",
            ]
        }
    }

    /// The corpus files and the shipped seeds, as (path, bytes), in a stable order.
    func seeds() -> [(path: String, bytes: [UInt8])] {
        var paths = FuzzFiles.list(corpusFolder).map { corpusFolder + "/" + $0 }
        paths += shippedSeeds
        return paths.compactMap { path in FuzzFiles.read(path).map { (path, $0) } }
    }
}

/// Runs inputs through the targets, keeping the state each needs across inputs.
final class FuzzRunner {
    let engine: ScriptEngine
    let emptyPolicies: String
    let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    init() throws {
        let plane = ControlPlane(registry: ParameterRegistry())
        engine = ScriptEngine(plane: plane, logger: quiet, sample: true)
        var template = Array("/tmp/sentinel-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FuzzFiles.Failure(path: "mkdtemp") }
        emptyPolicies = String(cString: made)
    }

    deinit { rmdir(emptyPolicies) }

    /// Runs one input; returns the refusal's message, or nil when accepted.
    /// Records a problem (through `report`) when a refusal does not name its line.
    func run(_ target: FuzzTarget, _ bytes: [UInt8], path: String, report: (String) -> Void) async -> String? {
        switch target {
        case .scenario:
            guard case .success(let text) = ScriptFile.decode(bytes) else { return "not UTF-8" }
            do {
                var scenario = try Scenario(yaml: text, file: path)
                // A short, light run of what was accepted: the runtime must hold too.
                let scale = min(1, 2 / scenario.duration)
                scenario.duration = min(scenario.duration, 2)
                for index in scenario.pipelines.indices {
                    guard var traffic = scenario.pipelines[index].traffic else { continue }
                    traffic.rate = min(traffic.rate, 300)
                    traffic.pattern = .constant
                    scenario.pipelines[index].traffic = traffic
                }
                for index in scenario.events.indices {
                    scenario.events[index].at *= scale
                    if case .traffic(let pipeline, var spec) = scenario.events[index].change {
                        spec.rate = min(spec.rate, 300)
                        spec.pattern = .constant
                        scenario.events[index].change = .traffic(pipeline: pipeline, spec: spec)
                    }
                }
                let simulation = try Simulation(scenario: scenario, policies: emptyPolicies, logger: .silent)
                _ = try await simulation.run { _ in }
                return nil
            } catch {
                expectLine(error.description, path: path, report: report)
                return error.description
            }
        case .config:
            guard case .success(let text) = ScriptFile.decode(bytes) else { return "not UTF-8" }
            do {
                _ = try ControlPlaneConfiguration(yaml: text, file: path)
                return nil
            } catch {
                expectLine(error.description, path: path, report: report)
                return error.description
            }
        case .json:
            let value: JSONValue
            do {
                value = try JSONParser().parse(bytes)
            } catch {
                return error.description
            }
            _ = try? PersistedState(jsonValue: value)
            _ = try? AuditEntry(jsonObject: value)
            let plane = ControlPlane(registry: ParameterRegistry())
            let trials = TrialRunner(plane: plane, logger: .silent)
            if case .object(let object) = value, let saved = object["trials"] {
                _ = trials.restore(saved)
            } else {
                _ = trials.restore(value)
            }
            return nil
        case .script:
            let text: String
            switch ScriptFile.decode(bytes) {
            case .success(let decoded): text = decoded
            case .failure(let invalid): return "\(path):\(invalid.line): the file is \(invalid)"
            }
            switch await engine.load(path: path, source: text) {
            case .success:
                _ = await engine.checkCommands(path: path)
                return nil
            case .failure(let error):
                if !error.description.hasPrefix(path) { report("\(path): the error does not name the file: \(error)") }
                return error.description
            }
        }
    }

    /// A refusal of a YAML file reads `path:LINE: ...`.
    private func expectLine(_ message: String, path: String, report: (String) -> Void) {
        let rest = message.hasPrefix(path + ":") ? message.dropFirst(path.count + 1) : nil
        guard let rest, rest.first?.isNumber == true else {
            report("the error does not name the file and line: \(message.excerpt(300))")
            return
        }
    }
}

/// Small file helpers for the fuzz suite.
enum FuzzFiles {
    struct Failure: Error { var path: String }

    static func list(_ folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard case .success(let file) = ScriptFile.read(path: path, maximumFileSize: 4 << 20) else { return nil }
        return file.contents
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }
}
