import Simulation

#if canImport(Glibc)
import Glibc
#endif

extension SimulateCommand {
    /// With `--report`: checks the path before the run (a bad one exits 2
    /// naming it) and has the simulation record what the report needs.
    func prepareReport(_ simulation: Simulation) -> PendingReport? {
        guard let reportPath else { return nil }
        do {
            try HTMLReport.checkDestination(reportPath)
        } catch {
            PendingReport.exit(with: error)
        }
        simulation.recordForReport()
        return PendingReport(path: reportPath)
    }
}

/// A report to write once the run has finished, whatever its verdict.
struct PendingReport {
    let path: String

    /// Writes the page; a failure exits 2 naming the path.
    func write(_ simulation: Simulation) {
        guard let recording = simulation.recording else { return }
        do {
            try HTMLReport(recording).write(to: path)
        } catch {
            Self.exit(with: error)
        }
    }

    static func exit(with error: ReportError) -> Never {
        let line = "\(error)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        Glibc.exit(2)
    }
}
