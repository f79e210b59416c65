import Hummingbird
import NIOCore
import Prometheus
import Sentinel

/// `GET /healthz`, `/readyz` (no token) and `/metrics` (a token unless public).
struct HealthRoutes {
    let subject: AdminSubject

    func register(on router: Router<AdminRequestContext>) {
        router.get("/healthz") { _, _ in AdminResponse.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in readiness() }
        router.get("/metrics") { _, _ in try metrics() }
    }

    /// Ready once the scripts present at start are loaded (or refused) and the audit is writable.
    func readiness() -> Response {
        var reasons: [String] = []
        if let sentinel = subject.sentinel, sentinel.watcher.counters.scansCompleted == 0 {
            reasons.append("the scripts are still loading")
        }
        let statistics = subject.plane.audit.statistics
        if statistics.pendingEntries > 0 {
            reasons.append("the audit sink is failing: \(statistics.lastError.map { "\($0)" } ?? "entries are pending")")
        }
        if reasons.isEmpty { return AdminResponse.json(["ready": true]) }
        return AdminResponse.json(["ready": false, "reasons": .array(reasons.map { .string($0) })], status: .serviceUnavailable)
    }

    func metrics() throws -> Response {
        guard let registry = subject.metrics else {
            throw AdminError(
                .notFound, "not_found", "this sentinel exports no metrics (bootstrap them with SentinelMetrics.bootstrapPrometheus())")
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
