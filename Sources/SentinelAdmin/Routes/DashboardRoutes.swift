import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /` and `/dashboard/…`: the dashboard's page, style sheet, script and
/// icon. The files live in `Sources/SentinelAdmin/Dashboard/` and are compiled
/// into the binary (SwiftPM's `embedInCode`), so the page works where there is
/// no internet and nothing is installed beside the executable. They are
/// served without a token because they hold no data: the page asks for the
/// token and reads the API with it. The Content-Security-Policy allows only
/// these files, and requests only to this origin.
struct DashboardRoutes {
    struct Asset: Sendable {
        let path: String
        let contentType: String
        let body: ByteBuffer
    }

    static let assets: [Asset] = [
        Asset(path: "/", contentType: "text/html; charset=utf-8", body: ByteBuffer(bytes: PackageResources.index_html)),
        Asset(
            path: "/dashboard/dashboard.js", contentType: "text/javascript; charset=utf-8",
            body: ByteBuffer(bytes: PackageResources.dashboard_js)),
        Asset(
            path: "/dashboard/dashboard.css", contentType: "text/css; charset=utf-8",
            body: ByteBuffer(bytes: PackageResources.dashboard_css)),
        Asset(path: "/dashboard/favicon.svg", contentType: "image/svg+xml", body: ByteBuffer(bytes: PackageResources.favicon_svg)),
    ]

    static var paths: [String] { assets.map(\.path) }

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    func register(on router: Router<AdminRequestContext>) {
        for asset in Self.assets {
            router.get(RouterPath(asset.path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: asset.contentType, .contentSecurityPolicy: Self.contentSecurityPolicy,
                        .xContentTypeOptions: "nosniff", Self.referrerPolicy: "no-referrer",
                    ],
                    body: ResponseBody(byteBuffer: asset.body))
            }
        }
    }
}
