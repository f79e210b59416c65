import Sentinel

/// A complete answer of the admin API: its status and body.
struct AdminResponse: Sendable {
    let status: Int
    let body: [UInt8]
    /// The server's URL, for messages.
    let server: ServerURL

    /// The failure this answer stands for, or nil for a success (2xx).
    var failure: OperatorFailure? {
        OperatorFailure.forStatus(status, body: body, server: server.base)
    }

    /// The body as text, exactly as received.
    var text: String { String(decoding: body, as: UTF8.self) }

    /// This answer when it is a success, else the failure it stands for.
    func successful() throws(OperatorFailure) -> AdminResponse {
        if let failure { throw failure }
        return self
    }

    /// The body parsed as JSON; a body that is not JSON means that whatever
    /// answered is not a sentinel's admin API.
    func json() throws(OperatorFailure) -> JSONValue {
        do {
            return try JSONParser().parse(body)
        } catch {
            throw OperatorFailure(.unreachable, "\(server) answered something that is not JSON (\(error)); is it a sentinel's admin API?")
        }
    }

    /// The JSON body's object, or the failure that it is not one.
    func jsonObject() throws(OperatorFailure) -> [String: JSONValue] {
        guard let object = try json().objectValue else {
            throw OperatorFailure(.unreachable, "\(server) answered JSON that is not an object; is it a sentinel's admin API?")
        }
        return object
    }
}
