import ArgumentParser
import SentinelFleet

#if canImport(Glibc)
import Glibc
#endif

/// `sentinel run`'s fleet options (docs/fleet.md).
struct FleetOptions: ParsableArguments {
    @Option(
        name: .customLong("fleet"),
        help:
            "Join the fleet whose state is in this PostgreSQL database: postgres://USER@HOST:PORT/DATABASE[?sslmode=…] (no password in it)."
    )
    var url: String?

    @Option(name: .customLong("fleet-password-file"), help: "The database password (else PGPASSWORD).")
    var passwordFile: String?

    @Option(name: .customLong("fleet-lease"), help: "Seconds a leader's lease lasts without renewal (default 5).")
    var lease: Double = 5

    func validate(instance: String?, stateFile: String?) throws {
        guard let url else {
            if passwordFile != nil { throw ValidationError("--fleet-password-file needs --fleet URL") }
            return
        }
        do {
            _ = try FleetDatabase(url: url, password: nil)
        } catch {
            throw ValidationError(error.description)
        }
        guard let instance else {
            throw ValidationError("--fleet needs --instance ID: each instance of the fleet has its own name")
        }
        guard FleetMember.isValidInstanceName(instance) else {
            throw ValidationError("--instance \(instance): expected 1 to 64 letters, digits, '.', '_' or '-'")
        }
        if stateFile != nil {
            throw ValidationError(
                "--state-file and --fleet do not go together: in a fleet the database holds the state (docs/fleet.md)")
        }
        guard lease >= 1, lease <= 300 else { throw ValidationError("--fleet-lease \(lease): expected 1 to 300 seconds") }
    }

    /// The database, with its password read now (never printed).
    func database() throws(FleetConfigurationError) -> FleetDatabase? {
        guard let url else { return nil }
        let password = try FleetDatabase.password(file: passwordFile) { getenv($0).map { String(cString: $0) } }
        return try FleetDatabase(url: url, password: password)
    }

    var leaseDuration: Duration { .milliseconds(Int64((lease * 1000).rounded())) }
}
