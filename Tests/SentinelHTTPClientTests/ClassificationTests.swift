import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Resilience
import Testing

@testable import SentinelHTTPClient

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ClassificationTests {
    @Test(arguments: [
        (200, AttemptClassification.Verdict.success), (204, .success), (301, .success), (304, .success),
        (400, .success), (401, .success), (404, .success), (409, .success), (422, .success),
        (408, .retryableFailure), (429, .retryableFailure),
        (500, .failure), (501, .failure), (505, .failure),
        (502, .retryableFailure), (503, .retryableFailure), (504, .retryableFailure),
    ])
    func standardTableClassifiesStatuses(code: Int, verdict: AttemptClassification.Verdict) {
        #expect(AttemptClassification.standard.verdict(for: HTTPResponseStatus(statusCode: code)) == verdict)
    }

    @Test func transientErrorsAreConnectionFailuresAndTimeouts() {
        let transient: [any Error] = [
            HTTPClientError.connectTimeout, HTTPClientError.deadlineExceeded, HTTPClientError.remoteConnectionClosed,
            HTTPClientError.readTimeout, HTTPClientError.tlsHandshakeTimeout, ChannelError.connectTimeout(.seconds(1)),
            IOError(errnoCode: ECONNREFUSED, reason: "connect"), IOError(errnoCode: ECONNRESET, reason: "read"),
        ]
        for error in transient { #expect(AttemptClassification.isTransient(error), "\(error)") }
        let permanent: [any Error] = [
            HTTPClientError.invalidURL, HTTPClientError.redirectLimitReached, IOError(errnoCode: EACCES, reason: "open"),
            TestFailure("something else"),
        ]
        for error in permanent { #expect(!AttemptClassification.isTransient(error), "\(error)") }
    }

    @Test func refusedConnectionsNeverReachedTheUpstream() {
        #expect(ConnectionFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .notConnected)
        #expect(ConnectionFailure(HTTPClientError.connectTimeout) == .notConnected)
        #expect(ConnectionFailure(HTTPClientError.remoteConnectionClosed) == .broken)
        #expect(ConnectionFailure(HTTPClientError.deadlineExceeded) == .deadline)
    }

    @Test func customClassificationDecides() {
        let classification = AttemptClassification(
            status: { status in
                status == .internalServerError ? .retryableFailure : AttemptClassification.standardVerdict(status)
            }, errorIsRetryable: { _ in false })
        #expect(classification.verdict(for: .internalServerError) == .retryableFailure)
        #expect(classification.verdict(for: .notFound) == .success)
        #expect(!classification.isRetryable(HTTPClientError.connectTimeout))
    }

    // MARK: - Retry-After

    @Test func retryAfterReadsDelaySeconds() {
        #expect(RetryAfterField.delay(" 120 ", now: 0) == .seconds(120))
        #expect(RetryAfterField.delay("0", now: 0) == .zero)
        #expect(RetryAfterField.delay("soon", now: 0) == nil)
        #expect(RetryAfterField.delay("-5", now: 0) == nil)
        #expect(RetryAfterField.delay("1.5", now: 0) == nil)
    }

    @Test func retryAfterReadsTheThreeHTTPDateForms() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 Unix seconds (RFC 9110's example).
        let now = 784_111_777.0 - 30
        for value in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            #expect(RetryAfterField.delay(Substring(value), now: now) == .seconds(30), "\(value)")
        }
        #expect(RetryAfterField.delay("Sun, 06 Nov 1994 08:49:37 GMT", now: now + 100) == .zero)
        #expect(RetryAfterField.delay("Sun, 06 Foo 1994 08:49:37 GMT", now: now) == nil)
        #expect(RetryAfterField.delay("Sun, 06 Nov 1994 25:49:37 GMT", now: now) == nil)
        #expect(RetryAfterField.unixSeconds(httpDate: "Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(RetryAfterField.unixSeconds(httpDate: "Tue, 29 Feb 2028 12:00:00 GMT") == 1_835_438_400)
    }

    // MARK: - Upstreams

    @Test func upstreamsMustMatchTheSplitsVariants() async throws {
        let (split, _) = try manualPipeline("split") { TrafficSplit([("stable", 90), ("canary", 10)]) }
        let (plain, _) = try manualPipeline("plain") { Retry() }
        try await withHTTPClient { client in
            let ok = try PipelineHTTPClient(
                pipeline: split, httpClient: client,
                upstreams: ["stable": "http://127.0.0.1:1/", "canary": "https://canary.internal/v2//"])
            #expect(ok.upstreams.byVariant == ["stable": "http://127.0.0.1:1", "canary": "https://canary.internal/v2"])
            let cases: [([String: String], Pipeline, PipelineHTTPClientError.Code)] = [
                (["stable": "http://a"], split, .missingUpstream),
                (["stable": "http://a", "canary": "http://b", "beta": "http://c"], split, .unknownVariant),
                (["stable": "http://a"], plain, .unknownVariant),
                (["stable": "ftp://a", "canary": "http://b"], split, .invalidURL),
                (["stable": "http://a?x=1", "canary": "http://b"], split, .invalidURL),
                (["stable": "http:///path", "canary": "http://b"], split, .invalidURL),
            ]
            for (upstreams, pipeline, code) in cases {
                let error = #expect(throws: PipelineHTTPClientError.self) {
                    try PipelineHTTPClient(pipeline: pipeline, httpClient: client, upstreams: upstreams)
                }
                #expect(error?.code == code, "\(upstreams): \(String(describing: error))")
            }
            let single = try PipelineHTTPClient(pipeline: plain, httpClient: client, upstream: "http://127.0.0.1:1")
            await #expect(throws: PipelineHTTPClientError.self) {
                try await single.execute(HTTPClientRequest(url: "http://elsewhere/items"))
            }
        }
    }
}
