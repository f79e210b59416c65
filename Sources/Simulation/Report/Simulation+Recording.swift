import Resilience
import Sentinel

extension Simulation {
    /// Keeps what a report needs while the run goes: call it before
    /// ``run(progress:emit:)``, then read ``recording`` and render it with
    /// ``HTMLReport``. The run's events are the same with or without it.
    ///
    /// ```swift
    /// let simulation = try Simulation(scenario: scenario, policies: folder, logger: logger)
    /// simulation.recordForReport()
    /// _ = try await simulation.run { print($0.json) }
    /// try HTMLReport(simulation.recording!).write(to: "report.html")
    /// ```
    public func recordForReport() {
        guard recorder == nil else { return }
        var recorder = RunRecorder(
            scenario: scenario, seed: seed, pipelines: driver.outputPipelines.map { ($0.name, $0.variants) }, end: end)
        recorder.observe(registry.parameters(), at: 0)
        self.recorder = recorder
    }

    /// What was recorded: nil unless ``recordForReport()`` was called before the run.
    public var recording: RunRecording? {
        guard var recorder else { return nil }
        recorder.finish()
        return recorder.recording
    }

    /// Takes every report sample due before `now` and returns the next one's instant.
    func recordSamples(before now: Int64, _ driver: CallDriver) -> Int64 {
        guard var recorder else { return .max }
        self.recorder = nil  // one copy of the recording while it grows
        while recorder.nextSample < now {
            let at = Double(recorder.nextSample) / 1e9
            recorder.sample(driver)
            recorder.observe(registry.parameters(), at: at)
        }
        self.recorder = recorder
        return recorder.nextSample
    }

    /// Passes an emitted event to the recording, with the knobs' values at its time.
    func record(_ event: SimulationEvent) {
        guard var recorder else { return }
        self.recorder = nil
        recorder.record(event)
        if event.type != "stats" { recorder.observe(registry.parameters(), at: event.t) }
        self.recorder = recorder
    }
}
