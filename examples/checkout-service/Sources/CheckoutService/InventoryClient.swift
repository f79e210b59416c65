import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Resilience
import SentinelHTTPClient

/// Calls the inventory through the `checkout` pipeline (`PipelineHTTPClient`):
/// the split's variant picks the upstream (stable or canary), the user's id
/// keeps the user on one, and the inventory's failures count as the variant's.
struct InventoryClient: Sendable {
    let client: PipelineHTTPClient

    /// The inventory's answer (its status and body) as the checkout's, or 502 when the inventory
    /// failed (or the `checkout` pipeline refused: its breaker, its bulkhead).
    /// `X-Served-By` names the inventory that answered.
    func stock(of item: String, forUser user: String?) async -> Response {
        do {
            let response = try await client.execute(HTTPClientRequest(url: "/items/" + item), key: user)
            let body = try await response.body.collect(upTo: 64 * 1024)
            var headers: HTTPFields = [.contentType: "application/json"]
            if let servedBy = response.headers.first(name: HTTPField.Name.servedBy.canonicalName) { headers[.servedBy] = servedBy }
            // The answer's own status: a 404 is a success for the pipeline, and still a 404.
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: body))
        } catch {
            var headers = HTTPFields()
            if let failed = (error as? PipelineHTTPClientError)?.response,
                let servedBy = failed.headers.first(name: HTTPField.Name.servedBy.canonicalName)
            {
                headers[.servedBy] = servedBy
            }
            return Response(
                status: .badGateway, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "inventory: \(error)\n")))
        }
    }
}
