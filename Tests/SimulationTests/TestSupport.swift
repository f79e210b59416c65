import Resilience
import Sentinel
import Simulation
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct ScratchFolderError: Error { var errno: Int32 }

/// A scratch folder of Lua scripts for one test.
struct ScriptFolder {
    let path: String

    init(_ scripts: [String: String] = [:]) throws {
        var template = Array("/tmp/sentinel-simulation-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ScratchFolderError(errno: errno)
        }
        path = String(cString: made)
        for (name, source) in scripts {
            let file = fopen(path + "/" + name, "w")
            fputs(source, file)
            fclose(file)
        }
    }
}

/// What one run printed and found.
struct Run {
    var events: [SimulationEvent]
    var report: SimulationReport
    var json: [String] { events.map(\.json) }

    func events(_ type: String) -> [SimulationEvent] { events.filter { $0.type == type } }
}

func simulate(_ yaml: String, scripts: [String: String] = [:], seed: UInt64? = nil) async throws -> Run {
    let folder = try ScriptFolder(scripts)
    defer { folder.remove() }
    let scenario = try Scenario(yaml: yaml, file: "test.yaml")
    return try await simulate(scenario, policies: folder.path, seed: seed)
}

func simulate(_ scenario: Scenario, policies: String, seed: UInt64? = nil) async throws -> Run {
    // These tests judge what rules decide, not how fast a loaded test machine
    // runs them: with the whole suite in parallel on two busy cores, a canary
    // evaluation has been stretched past the production deadline of 50 ms. The
    // instruction budget and memory cap (deterministic) stay as configured;
    // the deadline only guards against a hang here. The CLI tests keep it.
    var scenario = scenario
    if let deadline = scenario.control.limits.deadline, deadline < .seconds(5) {
        scenario.control.limits.deadline = .seconds(5)
    }
    let simulation = try Simulation(scenario: scenario, policies: policies, seed: seed, logger: .silent)
    var events: [SimulationEvent] = []
    let report = try await simulation.run { events.append($0) }
    return Run(events: events, report: report)
}

/// The parse error of a scenario, as printed.
func parseError(_ yaml: String) -> String? {
    do {
        _ = try Scenario(yaml: yaml, file: "bad.yaml")
        return nil
    } catch {
        return error.description
    }
}

extension JSONValue {
    var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

/// A runtime's script engine ticked on a manual clock, `step` nanoseconds at a time.
struct EngineTicks {
    let clock: ManualClock
    let runtime: SentinelRuntime
    let step: Int64
    private(set) var now: Int64 = 0

    init(_ runtime: SentinelRuntime, clock: ManualClock, step: Int64) {
        self.runtime = runtime
        self.clock = clock
        self.step = step
    }

    /// Advances the clock one step and runs the scripts due.
    @discardableResult
    mutating func next() async -> ScriptEngine.Round {
        now += step
        clock.advance(to: ManualClock.Instant(offset: .nanoseconds(now)))
        return await runtime.engine.tick(at: now)
    }
}
