import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Resilience

/// What every attempt of one call shares.
struct OutgoingCall: Sendable {
    /// The caller's request; its URL is the path.
    let request: HTTPClientRequest
    let body: CallBody
    let logger: Logger?
    /// Whether the method and the body allow another attempt after a failure that reached the upstream.
    let retryable: Bool
    /// The hedging that applies to this call, if any.
    let hedging: HTTPHedging?
}

/// The deadline of one attempt, and whether the pipeline's cooperative timeout set it.
struct AttemptDeadline: Sendable {
    var instant: NIODeadline
    var byPipeline: Bool
}

extension PipelineHTTPClient {
    /// Beyond what a failure answer's body keeps, the most bytes read to free its connection.
    static let drainLimit = 1 << 20

    /// One attempt of the pipeline: one request, or a hedged group of them.
    func attempt(_ call: OutgoingCall, _ context: CallContext) async throws -> HTTPClientResponse {
        if context.attempt > 1 && !call.body.isReplayable {
            // Only a custom retry predicate that ignores `isRetryable` gets here.
            throw PipelineHTTPClientError(
                .bodyNotReplayable,
                "\(pipeline.name): \(call.request.method) \(call.request.url): attempt \(context.attempt) needs the "
                    + "request body again, which can be sent once; pass it as a ReplayableBody")
        }
        guard let base = upstreams.base(for: context.variant) else {
            throw PipelineHTTPClientError(
                .missingUpstream, "\(pipeline.name): no upstream for variant \(context.variant ?? "(none)")")
        }
        var request = call.request
        request.url = base + call.request.url
        guard let hedging = call.hedging else { return try await send(request, call) }
        let prepared = request
        let answer = try await hedging.run { _ in
            do {
                return .response(try await self.send(prepared, call))
            } catch {
                if Self.hedgeGroupGoesOn(after: error) { throw error }
                return .failure(error)
            }
        }
        switch answer {
        case .response(let response): return response
        case .failure(let failure): throw failure
        }
    }

    /// Whether a hedged request's `error` lets its group go on: only when it got no answer and
    /// another request could get one (a connection failure, the attempt's deadline). An answer
    /// (even a failure), an error every request would meet, the pipeline's own timeout or a
    /// cancellation ends the group with it.
    static func hedgeGroupGoesOn(after error: any Error) -> Bool {
        guard let failure = error as? PipelineHTTPClientError else { return false }
        return failure.response == nil && failure.isRetryable
    }

    /// Sends `request` once (with a fresh body) within the attempt's deadline and classifies the answer.
    func send(_ prepared: HTTPClientRequest, _ call: OutgoingCall) async throws -> HTTPClientResponse {
        var request = prepared
        request.body = call.body.make()
        let deadline = attemptDeadline()
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: deadline.instant, logger: call.logger)
        } catch {
            throw failure(error, request, call, deadline)
        }
        let verdict = configuration.classification.verdict(for: response.status)
        guard verdict.isFailure else { return response }
        throw await failure(response, verdict, request, call, deadline)
    }

    /// The sooner of the attempt's own timeout and the pipeline's cooperative deadline.
    func attemptDeadline() -> AttemptDeadline {
        var limit = configuration.attemptTimeout
        var byPipeline = false
        if let pipelineDeadline = Deadline.current {
            let remaining = pipelineDeadline.remaining
            if limit.map({ remaining < $0 }) ?? true {
                limit = remaining
                byPipeline = true
            }
        }
        guard let limit else { return AttemptDeadline(instant: .distantFuture, byPipeline: false) }
        return AttemptDeadline(instant: .now() + .nanoseconds(max(0, limit.nanosecondsClamped)), byPipeline: byPipeline)
    }

    // MARK: - Failures

    /// The error to throw for an attempt that got no answer.
    func failure(_ error: any Error, _ request: HTTPClientRequest, _ call: OutgoingCall, _ deadline: AttemptDeadline) -> any Error {
        // A cancelled attempt (the caller went away, an enforced timeout, a hedge that lost) is not
        // the upstream's fault: cancellation passes as such, and the breaker skips it.
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        let kind = ConnectionFailure(error)
        let what = "\(pipeline.name): \(request.method) \(request.url)"
        if kind == .deadline && deadline.byPipeline {
            return ResilienceError(.timedOut, pipeline: pipeline.name, "\(what): the pipeline's deadline passed")
        }
        let transient = configuration.classification.isRetryable(error)
        let retryable = transient && call.body.isReplayable && (call.retryable || kind == .notConnected)
        switch kind {
        case .deadline:
            let timeout = configuration.attemptTimeout.map { " \($0)" } ?? ""
            return PipelineHTTPClientError(
                .attemptTimedOut, "\(what): no answer within the attempt timeout\(timeout)", underlying: error,
                isRetryable: retryable)
        case .notConnected, .broken:
            return PipelineHTTPClientError(
                .connectionFailed, "\(what): connection failed (\(error))", underlying: error, isRetryable: retryable)
        case nil:
            return PipelineHTTPClientError(
                .requestFailed, "\(what): \(error)", underlying: error, isRetryable: retryable)
        }
    }

    /// The error to throw for an answer counted as a failure: its body read into memory (up to
    /// the limit; the rest read and discarded, which frees the connection for the next attempt).
    func failure(
        _ response: HTTPClientResponse, _ verdict: AttemptClassification.Verdict, _ request: HTTPClientRequest,
        _ call: OutgoingCall, _ deadline: AttemptDeadline
    ) async -> PipelineHTTPClientError {
        let left = Duration.nanoseconds(max(0, (deadline.instant - .now()).nanoseconds))
        let body = await Self.readFailureBody(
            response.body, keeping: max(0, configuration.failureBodyLimit),
            within: min(left, configuration.failureBodyTimeout))
        let retryAfter = response.headers.first(name: "Retry-After").flatMap {
            RetryAfterField.delay(Substring($0), now: configuration.wallClock())
        }
        let status = response.status
        let kept = HTTPClientResponse(
            version: response.version, status: status, headers: response.headers, body: .bytes(body),
            history: response.history)
        return PipelineHTTPClientError(
            .failureStatus, "\(pipeline.name): \(request.method) \(request.url): \(status.code) \(status.reasonPhrase)",
            response: kept, isRetryable: verdict == .retryableFailure && call.retryable, retryAfter: retryAfter)
    }

    /// Reads `body` within `timeout`, keeping its first `limit` bytes and discarding the rest, up
    /// to ``drainLimit`` more (a longer or slower body is dropped, which closes its connection).
    static func readFailureBody(_ body: HTTPClientResponse.Body, keeping limit: Int, within timeout: Duration) async -> ByteBuffer {
        await withTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var kept = ByteBuffer()
                var read = 0
                do {
                    for try await var chunk in body {
                        read += chunk.readableBytes
                        let wanted = min(limit - kept.readableBytes, chunk.readableBytes)
                        if wanted > 0, let slice = chunk.readSlice(length: wanted) { kept.writeImmutableBuffer(slice) }
                        if read > limit + drainLimit { break }
                    }
                } catch {
                    // Cancelled at the timeout, or the body broke off: keep what was read.
                }
                return kept
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var kept: ByteBuffer?
            while let result = await group.next() {
                if let result {
                    kept = result
                    group.cancelAll()
                } else {
                    // The timer: stop reading (the reader returns what it kept).
                    group.cancelAll()
                }
            }
            return kept ?? ByteBuffer()
        }
    }
}
