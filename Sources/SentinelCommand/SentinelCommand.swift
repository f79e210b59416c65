import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// `sentinel`: check meta-policy scripts and run the sentinel.
@main
struct SentinelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentinel",
        abstract: "Self-tuning resilience: check, simulate and run Lua meta-policy scripts.",
        discussion: """
            Exit codes (every subcommand):
              0  done
              1  refused or failed: a script failed its check, a simulation failed an
                 expectation, or the server refused an operator command (HTTP 403
                 denied, 409 rejected, 500 failed)
              2  usage: a usage error or a missing path, or a request the server could
                 not take (HTTP 400, 404, 405, 413, 415, 422)
              3  unreachable (operator commands): no connection or no answer in time,
                 no token or one the server did not accept (HTTP 401), or a proxy or an
                 unavailable server in the way (HTTP 502, 503, 504, any 5xx but 500)
            """,
        subcommands: [
            CheckCommand.self, SimulateCommand.self, RunCommand.self,
            // Operator commands: clients of a running sentinel's admin API (Operator/).
            StatusCommand.self, ParamsCommand.self, SetCommand.self, FreezeCommand.self, UnfreezeCommand.self,
            PauseCommand.self, ResumeCommand.self, TrialCommand.self, ApproveCommand.self, DenyCommand.self,
            AuditCommand.self, IssueCommand.self, TokenCommand.self, FleetCommand.self,
        ]
    )

    /// Parses and runs; swift-argument-parser's usage exit code (64) becomes 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                let line = message + "\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

extension ExitCode {
    static let scriptFailed = ExitCode(1)
    static let usage = ExitCode(2)
}
