import Testing

@testable import SentinelAdmin

/// The webhook client's pure parts: `Retry-After` and redacted errors.
@Suite struct NotificationWebhookClientTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @Test func retryAfterReadsSecondsAndHTTPDates() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        #expect(WebhookClient.retryAfter("120", now: 0) == .seconds(120))
        #expect(WebhookClient.retryAfter(" 0 ", now: 0) == .seconds(0))
        #expect(WebhookClient.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_767) == .seconds(10))
        #expect(WebhookClient.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: 784_111_800) == .zero, "a past date is no wait")
        #expect(WebhookClient.retryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now: 0) == nil)
        #expect(WebhookClient.retryAfter("-5", now: 0) == nil)
        #expect(WebhookClient.retryAfter("soon", now: 0) == nil)
        #expect(WebhookClient.retryAfter("", now: 0) == nil)
    }

    @Test func anErrorNeverQuotesTheURLOrItsPathOnItsOwn() throws {
        let url = "https://hooks.example/services/T000/B000/XXXX?token=abc"
        let endpoint = try NotificationEndpoint.test(url)
        for text in [
            "posting to \(url) failed", "no route for /services/T000/B000/XXXX?token=abc",
            "bad request /services/T000/B000/XXXX?token=abc.",
        ] {
            let described = WebhookClient.describe(Failure(description: text), endpoint: endpoint)
            #expect(!described.contains("T000/B000/XXXX") && !described.contains("token=abc"), "\(described)")
            #expect(described.contains("<redacted>"))
        }
        // A URL without a path has nothing more to hide.
        let bare = try NotificationEndpoint.test("http://127.0.0.1:9/")
        #expect(WebhookClient.describe(Failure(description: "reset by / peer"), endpoint: bare) == "reset by / peer")
    }
}
