import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import SentinelAdmin

/// The dashboard's files as the admin server sends them: no token needed,
/// the right types, a Content-Security-Policy that allows only them, and a
/// script that never turns text into HTML. (What the page does is tested in
/// a real browser: Tests/browser/dashboard_test.py.)
@Suite struct DashboardRoutesTests {
    static let types = [
        "/": "text/html; charset=utf-8", "/dashboard/dashboard.js": "text/javascript; charset=utf-8",
        "/dashboard/dashboard.css": "text/css; charset=utf-8", "/dashboard/favicon.svg": "image/svg+xml",
    ]

    @Test func theFilesNeedNoTokenAndCarryThePolicy() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            for (path, type) in Self.types {
                let response = try await client.get(path, token: nil)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == type, "\(path)")
                #expect(response.body.readableBytes > 100, "\(path) is served whole")
                let policy = try #require(response.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"))
                #expect(policy.contains("style-src 'self'") && policy.contains("connect-src 'self'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.cacheControl] == "no-store")
            }
            let other = try await client.get("/dashboard/other.js", token: nil)
            #expect(other.status == .unauthorized, "only the dashboard's own files are open")
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete])
    func onlyGetReadsThem(_ method: HTTPRequest.Method) async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.execute(uri: "/", method: method, headers: [:])
            #expect(response.status == .methodNotAllowed)
        }
    }

    /// The page loads nothing but its own files: no inline script or style
    /// (the policy would block them), no other origin.
    @Test func thePageReferencesOnlyItsOwnFiles() throws {
        let page = String(decoding: PackageResources.index_html, as: UTF8.self)
        let references = Self.attributes(["src", "href"], in: page)
        #expect(Set(references) == ["/dashboard/favicon.svg", "/dashboard/dashboard.css", "/dashboard/dashboard.js", "#decisions"])
        #expect(!page.contains("<style") && !page.contains(" style="), "styles only from the style sheet")
        #expect(page.components(separatedBy: "<script").count == 2, "one script element, the file")
        #expect(!page.contains(/\son[a-z]+=/), "no inline event handlers")
    }

    /// Untrusted text (reasons, evidence, messages) becomes text nodes: the
    /// script has no way to parse a string as HTML or code.
    @Test func theScriptNeverParsesTextAsHTMLOrCode() {
        let script = String(decoding: PackageResources.dashboard_js, as: UTF8.self)
        for sink in [
            "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "srcdoc",
        ] {
            #expect(!script.contains(sink), "\(sink)")
        }
        #expect(!script.contains("?token=") && !script.contains("EventSource"), "the token travels only in a header")
    }

    static func attributes(_ names: [String], in html: String) -> [String] {
        var values: [String] = []
        for name in names {
            var rest = Substring(html)
            while let range = rest.range(of: " \(name)=\"") {
                let after = rest[range.upperBound...]
                guard let end = after.firstIndex(of: "\"") else { break }
                values.append(String(after[..<end]))
                rest = after[end...]
            }
        }
        return values
    }
}
