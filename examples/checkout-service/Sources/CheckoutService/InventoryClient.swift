import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Resilience

/// Calls the inventory through the `checkout` pipeline: its split picks the
/// upstream (stable or canary), the user's id keeps the user on one.
struct InventoryClient: Sendable {
    let pipeline: Pipeline
    let httpClient: HTTPClient
    let upstreams: [String: String]

    /// The inventory's answer as the checkout's, or 502 when the inventory failed.
    func stock(of item: String, forUser user: String?) async -> Response {
        let variant = Box()
        do {
            let body = try await pipeline.execute(key: user) { call in
                let name = call.variant ?? "stable"
                variant.name = name
                let request = HTTPClientRequest(url: (upstreams[name] ?? upstreams["stable"]!) + "/items/" + item)
                let response = try await httpClient.execute(request, timeout: .seconds(2))
                let body = try await response.body.collect(upTo: 64 * 1024)
                guard response.status == .ok else { throw UpstreamError(status: response.status.code) }
                return body
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .servedBy: variant.name],
                body: .init(byteBuffer: body))
        } catch {
            return Response(
                status: .badGateway, headers: [.servedBy: variant.name],
                body: .init(byteBuffer: ByteBuffer(string: "inventory: \(error)\n")))
        }
    }
}

struct UpstreamError: Error, CustomStringConvertible {
    let status: UInt
    var description: String { "answered \(status)" }
}

/// The variant the call went to, read after it.
private final class Box: @unchecked Sendable {
    // @unchecked: written by the one call's operation, read after it returned.
    var name = "stable"
}
