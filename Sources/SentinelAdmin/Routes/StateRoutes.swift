import Hummingbird
import Resilience
import Sentinel

/// `GET /v1/whoami`, `/v1/status`, `/v1/scripts`, `/v1/pipelines[/NAME]`,
/// `/v1/params`, `/v1/trials`, `/v1/approvals`, `/v1/fleet`: what the sentinel
/// is doing, for any valid token.
struct StateRoutes {
    let subject: AdminSubject
    let startedAt: Double

    func register(on router: Router<AdminRequestContext>) {
        router.get("/v1/whoami") { _, context in try await whoami(context) }
        router.get("/v1/status") { _, _ in await status() }
        router.get("/v1/scripts") { _, _ in await scripts() }
        router.get("/v1/pipelines") { _, _ in pipelines() }
        router.get("/v1/pipelines/:name") { _, context in try pipeline(context.parameters.require("name")) }
        router.get("/v1/params") { _, _ in params() }
        router.get("/v1/trials") { _, _ in AdminResponse.json(.object(subject.runtime.trials.stateView())) }
        router.get("/v1/approvals") { _, _ in AdminResponse.json(.object(subject.runtime.approvals.view())) }
        router.get("/v1/fleet") { _, _ in await fleet() }
    }

    func whoami(_ context: AdminRequestContext) async throws -> Response {
        let identity = try context.caller()
        let access = subject.plane.access
        let allowed = subject.plane.commandNames.filter { access.mayIssue($0, as: identity) }
        return AdminResponse.json([
            "identity": .string(identity.auditName),
            "roles": .array(access.roles(of: identity).map { .string($0) }),
            "allowed_commands": .array(allowed.map { .string($0) }),
        ])
    }

    func status() async -> Response {
        let plane = subject.plane
        let scripts = await subject.runtime.engine.scripts
        let failed = await subject.runtime.engine.loadFailures
        let trials = subject.runtime.trials.trials.values
        let statistics = plane.audit.statistics
        var body: [String: JSONValue] = [
            "instance": .string(subject.instance),
            "uptime_s": .double((ControlPlane.wallClockNow() - startedAt).rounded(toPlaces: 1)),
            "frozen": plane.frozen.map { frozen in
                [
                    "by": .string(frozen.by), "reason": frozen.reason.map { .string($0) } ?? .null,
                    "since": .string(RFC3339.string(fromUnixSeconds: frozen.since)),
                ]
            } ?? .null,
            "scripts": [
                "loaded": .int(Int64(scripts.count)), "failed": .int(Int64(failed.count)),
                "suspended": .int(Int64(scripts.filter(\.suspended).count)), "paused": .int(Int64(scripts.filter(\.paused).count)),
            ],
            "trials": ["running": .int(Int64(trials.filter { !$0.status.isFinal }.count)), "total": .int(Int64(trials.count))],
            "audit": [
                "entries": .int(Int64(statistics.appended)), "failing": .bool(statistics.pendingEntries > 0),
                "dropped": .int(Int64(statistics.droppedEntries)),
            ],
            "state_file": .null,
            "fleet": subject.fleet?.fleetSummary() ?? ["role": "single", "connected": true],
        ]
        if let sentinel = subject.sentinel, let path = sentinel.configuration.stateFile {
            let health = sentinel.stateSaveHealth
            body["state_file"] = [
                "path": .string(path), "failing": .bool(health.failing),
                "last_saved": health.lastSuccess.map { .string(RFC3339.string(fromUnixSeconds: $0)) } ?? .null,
            ]
        }
        return AdminResponse.json(.object(body))
    }

    func scripts() async -> Response {
        let engine = subject.runtime.engine
        let scripts = await engine.scripts.map { script -> JSONValue in
            [
                "name": .string(script.name), "path": .string(script.path), "interval_s": .double(script.interval.secondsDouble),
                "dry_run": .bool(script.dryRun), "paused": .bool(script.paused), "suspended": .bool(script.suspended),
                "staged": .bool(script.staged), "evaluations": .int(Int64(script.evaluations)),
                "failures": .int(Int64(script.failures)), "consecutive_failures": .int(Int64(script.consecutiveFailures)),
                "missed_ticks": .int(Int64(script.missedTicks)), "digest": .string(String(script.digest, radix: 16)),
                "last_evaluation": script.lastEvaluation.map { .string(RFC3339.string(fromUnixSeconds: $0)) } ?? .null,
                "last_error": script.lastError.map { .string($0) } ?? .null,
            ]
        }
        let failed = await engine.loadFailures.sorted { $0.key < $1.key }.map { path, error -> JSONValue in
            ["path": .string(path), "error": .string(error.description)]
        }
        return AdminResponse.json(["scripts": .array(scripts), "failed": .array(failed)])
    }

    func pipelines() -> Response {
        let state = StateSnapshotter(registry: subject.plane.registry).snapshot(frozen: subject.plane.frozen != nil)
        var pipelines: [String: JSONValue] = [:]
        for name in state.pipelineNames { pipelines[name] = state.pipeline(name)?.jsonValue }
        return AdminResponse.json(.object(pipelines))
    }

    func pipeline(_ name: String) throws -> Response {
        let state = StateSnapshotter(registry: subject.plane.registry).snapshot(frozen: subject.plane.frozen != nil)
        guard let view = state.pipeline(name) else {
            throw AdminError(.notFound, "not_found", "no pipeline named \(name.excerpt())")
        }
        return AdminResponse.json(view.jsonValue)
    }

    func params() -> Response {
        let plane = subject.plane
        let changes = plane.lastChanges
        var params: [String: JSONValue] = [:]
        for info in plane.registry.parameters() {
            params[info.name] = [
                "value": .double(info.value), "shadow": info.shadow.map { .double($0) } ?? .null,
                "min": .double(info.minimum), "max": .double(info.maximum), "kind": .string(info.descriptor.kind.rawValue),
                "unit": .string(info.descriptor.unit), "last_change": changes[info.name]?.jsonValue ?? .null,
            ]
        }
        return AdminResponse.json(.object(params))
    }

    func fleet() async -> Response {
        if let fleet = subject.fleet { return AdminResponse.json(await fleet.fleetStatus()) }
        let instance: JSONValue = [
            "id": .string(subject.instance), "applied_version": 0, "lag_s": 0,
            "last_seen": .string(RFC3339.string(fromUnixSeconds: ControlPlane.wallClockNow())),
            "scripts_hash": .string(await subject.runtime.scriptsHash()), "config_hash": .string(subject.runtime.configHash),
        ]
        return AdminResponse.json(["leader": .string(subject.instance), "term": 0, "instances": [instance]])
    }

}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
