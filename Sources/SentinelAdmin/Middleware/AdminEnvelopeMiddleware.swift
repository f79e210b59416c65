import HTTPTypes
import Hummingbird
import Metrics
import Resilience
import Sentinel

/// The outermost layer of every answer: errors become the API's JSON error
/// body, every response gets `Cache-Control: no-store` and is counted by
/// status, and a request that takes longer than the limit is answered 503
/// (the event stream excepted: it is meant to stay open).
struct AdminEnvelopeMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let requestTimeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            if request.uri.path == "/v1/events" {
                response = try await next(request, context)
            } else {
                response = try await withoutActuallyEscaping(next) { next in
                    let handler = UncheckedHandler(next: next)
                    return try await withTimeout(requestTimeout) { try await handler.next(request, context) }
                }
            }
        } catch {
            response = try Self.errorResponse(error, request: request, context: context)
        }
        response.headers[.cacheControl] = "no-store"
        Counter(label: "sentinel_admin_requests_total", dimensions: [("status", String(response.status.code))]).increment()
        return response
    }

    /// Hummingbird's own errors (no route, a body over the limit) in the API's format.
    static func errorResponse(_ error: any Error, request: Request, context: Context) throws -> Response {
        if let admin = error as? AdminError { return try admin.response(from: request, context: context) }
        if let http = error as? HTTPError {
            let (code, message): (String, String) =
                switch http.status {
                case .notFound: ("not_found", "no such path: \(request.uri.path.excerpt())")
                case .methodNotAllowed: ("method_not_allowed", "\(request.method) is not allowed here")
                case .contentTooLarge: ("body_too_large", "the request body is over the limit of 64 KiB")
                case .unsupportedMediaType: ("unsupported_media_type", "a POST body must be application/json")
                case .badRequest: ("bad_request", http.body ?? "bad request")
                default: ("failed", http.body ?? "\(http.status)")
                }
            var failure = AdminError(http.status, code, message)
            failure.headers = http.headers
            return try failure.response(from: request, context: context)
        }
        context.logger.error("admin request failed: \(error)")
        return try AdminError(.internalServerError, "failed", "the request failed").response(from: request, context: context)
    }

    private func withTimeout(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Response) async throws -> Response {
        try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw AdminError(.serviceUnavailable, "timeout", "the request took longer than \(limit)")
            }
            return response
        }
    }
}

/// The rest of the chain, carried into the timeout's child task.
// @unchecked: `next` is called once, inside the task group that `handle`
// awaits before it returns, so it never outlives or races its caller.
private struct UncheckedHandler: @unchecked Sendable {
    let next: (Request, AdminRequestContext) async throws -> Response
}
