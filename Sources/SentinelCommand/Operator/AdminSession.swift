import ArgumentParser
import Sentinel

/// Runs an operator command against the server: resolves the connection,
/// makes the one client of the invocation, shuts it down, and turns an
/// ``OperatorFailure`` into its message on standard error and its exit code.
enum AdminSession {
    /// Runs `body` with a client for `options`; `streaming` for the event stream.
    static func run(
        _ options: ConnectionOptions, streaming: Bool = false, _ body: (AdminClient) async throws -> Void
    ) async throws {
        do {
            let connection = try options.resolve()
            try await AdminClient.withClient(connection, streaming: streaming, body)
        } catch let failure as OperatorFailure {
            failure.report()
            throw failure.exitCode
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // Nothing else is expected; whatever it is, the exchange with the
            // server did not complete: exit 3, not a refusal (1).
            StandardError.write("the exchange with the server did not complete: \(error)")
            throw ExitCode.unreachable
        }
    }

    /// Sends one command through `POST /v1/commands` and reports the answer
    /// (``CommandAnswer``): the whole of a mutating operator command.
    static func submit(
        _ command: String, args: [String: JSONValue] = [:], connection: ConnectionOptions, mutation: MutationOptions,
        showResult: Bool = false
    ) async throws {
        try await run(connection) { client in
            let request = mutation.request(command, args: args)
            let response = try await client.post(request)
            try CommandAnswer.report(response, for: request, json: mutation.json, showResult: showResult)
        }
    }
}
