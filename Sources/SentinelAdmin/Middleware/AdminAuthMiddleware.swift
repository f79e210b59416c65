import HTTPTypes
import Hummingbird
import Metrics
import Resilience
import Sentinel

/// Bearer tokens: every path but `/healthz`, `/readyz` (and `/metrics` when
/// public) needs `Authorization: Bearer TOKEN` of the tokens file; the caller
/// becomes `operator:ID`. Failures are counted and, after repeats, answered
/// late. The header and the token are never logged.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let tokens: TokenStore
    let throttle: AuthFailureThrottle
    let openPaths: Set<String>
    private let failures = Counter(label: "sentinel_admin_auth_failures_total")

    init(tokens: TokenStore, throttle: AuthFailureThrottle, openPaths: Set<String>) {
        self.tokens = tokens
        self.throttle = throttle
        self.openPaths = openPaths
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        guard let token = Self.bearer(request.headers[.authorization]), let id = tokens.identify(token) else {
            failures.increment()
            let delay = throttle.delayAfterFailure(now: MonotonicTimeSource.rawNanos())
            if delay > .zero { try? await Task.sleep(for: delay) }
            var error = AdminError(.unauthorized, "unauthorized", "missing or unknown bearer token")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        context.identity = .operator(id)
        return try await next(request, context)
    }

    /// The token of `Bearer TOKEN` (the scheme in any case), or nil.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        return token.isEmpty ? nil : String(token)
    }
}
