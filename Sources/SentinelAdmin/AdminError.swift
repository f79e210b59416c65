import HTTPTypes
import Hummingbird
import NIOCore
import Sentinel

/// An error answer of the admin API: `{"error": {"code": ..., "message": ...}}`,
/// with the audit entry as `error.audit` when the refusal was audited.
public struct AdminError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The audit entry written for the refusal, if any.
    public var audit: AuditEntry?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, audit: AuditEntry? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.audit = audit
    }

    /// The body.
    var jsonValue: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let audit { error["audit"] = audit.jsonValue }
        return ["error": .object(error)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = AdminResponse.json(jsonValue, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}

/// Builders for the admin API's answers: JSON, `Cache-Control: no-store`.
enum AdminResponse {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(value.jsonString())
        buffer.writeString("\n")
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: buffer))
    }
}
