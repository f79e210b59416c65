import HTTPTypes
import Hummingbird
import NIOCore
import Resilience
import Sentinel

/// `POST /v1/commands`: any command through the control plane as the
/// caller (`operator:ID`), authorized, guarded and audited like every other.
struct CommandRoutes {
    let subject: AdminSubject
    let idempotency: IdempotencyStore
    let bodyLimit: Int

    static let fields: Set<String> = ["command", "args", "reason", "idempotency_key", "dry_run"]

    func register(on router: Router<AdminRequestContext>) {
        router.post("/v1/commands") { request, context in try await command(request, context) }
    }

    /// The parts of a request body, checked.
    struct Body {
        var command: String
        var args: [String: JSONValue]
        var reason: String?
        var idempotencyKey: String?
        var dryRun: Bool
    }

    static func decode(_ bytes: [UInt8]) throws -> Body {
        let value: JSONValue
        do { value = try JSONParser(maximumDepth: 64).parse(bytes) } catch {
            throw AdminError(.badRequest, "bad_request", "the body is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw AdminError(
                .badRequest, "bad_request", "the body must be a JSON object like {\"command\": \"automation.freeze\", \"args\": {}}")
        }
        for key in object.keys where !fields.contains(key) {
            throw AdminError(
                .badRequest, "bad_request", "unknown field '\(key.excerpt())' (expected \(fields.sorted().joined(separator: ", ")))")
        }
        guard case .string(let command)? = object["command"], !command.isEmpty else {
            throw AdminError(.badRequest, "bad_request", "'command' is required: a string such as \"param.set\"")
        }
        var args: [String: JSONValue] = [:]
        switch object["args"] {
        case nil, .null?: break
        case .object(let given)?: args = given
        case let other?: throw AdminError(.badRequest, "bad_request", "'args' must be an object, got \(other.typeName)")
        }
        func optionalString(_ key: String) throws -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            case let other?: throw AdminError(.badRequest, "bad_request", "'\(key)' must be a string, got \(other.typeName)")
            }
        }
        let key = try optionalString("idempotency_key")
        if let key, key.isEmpty || key.count > 128 {
            throw AdminError(.badRequest, "bad_request", "'idempotency_key' must be 1 to 128 characters")
        }
        var dryRun = false
        switch object["dry_run"] {
        case nil, .null?: break
        case .bool(let flag)?: dryRun = flag
        case let other?: throw AdminError(.badRequest, "bad_request", "'dry_run' must be true or false, got \(other.typeName)")
        }
        return Body(command: command, args: args, reason: try optionalString("reason"), idempotencyKey: key, dryRun: dryRun)
    }

    func command(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let identity = try context.caller()
        let type = request.headers[.contentType]?.split(separator: ";").first.map { String($0).lowercased() }
        guard type == "application/json" else {
            throw AdminError(
                .unsupportedMediaType, "unsupported_media_type", "a command is a JSON body: send Content-Type: application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bodyLimit)
        } catch {
            throw AdminError(.contentTooLarge, "body_too_large", "the request body is over the limit of \(bodyLimit / 1024) KiB")
        }
        let bytes = Array(buffer.readableBytesView)
        let body = try Self.decode(bytes)
        let now = MonotonicTimeSource.rawNanos()
        let digest = IdempotencyStore.digest(bytes)
        if let key = body.idempotencyKey {
            switch idempotency.lookup(identity: identity.auditName, key: key, bodyDigest: digest, now: now) {
            case .new: break
            case .repeated(let answer):
                var response = AdminResponse.json(try JSONValue(json: answer.body), status: .init(code: answer.status))
                response.headers[HTTPField.Name("Idempotent-Replay")!] = "true"
                return response
            case .conflict:
                throw AdminError(.unprocessableContent, "idempotency_key_reused", "this idempotency key was used with another body")
            }
        }
        let outcome = await subject.plane.execute(
            body.command, body.args,
            context: CommandContext(
                identity: identity, source: "admin-api", reason: body.reason,
                correlationID: body.idempotencyKey, dryRun: body.dryRun))
        let (status, answer) = Self.answer(outcome, command: body.command)
        if let key = body.idempotencyKey {
            idempotency.remember(
                identity: identity.auditName, key: key,
                .init(bodyDigest: digest, status: Int(status.code), body: answer.jsonString(), at: now))
        }
        return AdminResponse.json(answer, status: status)
    }

    /// The HTTP status and body of a command's outcome.
    static func answer(_ outcome: CommandOutcome, command: String) -> (HTTPResponse.Status, JSONValue) {
        if let error = outcome.error {
            let (status, code): (HTTPResponse.Status, String) =
                switch error.code {
                case .unknownCommand: (.notFound, "unknown_command")
                case .invalidArgument, .unknownParameter: (.badRequest, "invalid_argument")
                case .unauthorized, .frozen: (.forbidden, "denied")
                case .failed: (.internalServerError, "failed")
                default: (.conflict, "rejected")
                }
            return (status, AdminError(status, code, error.message, audit: outcome.entry).jsonValue)
        }
        var body: [String: JSONValue] = ["outcome": .string(outcome.outcome.rawValue), "result": outcome.result ?? .null]
        body["audit"] = outcome.entry?.jsonValue ?? .null
        return (.ok, .object(body))
    }
}
