import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `checkout-service load`: requests at a fixed rate (open loop), until a
/// duration or SIGTERM/SIGINT, then a JSON report on standard output.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Sends GET URL/ITEM at a fixed rate from many users, then prints what came back (JSON).",
        discussion: """
            Open loop: a request starts every 1/--rate seconds whether or not the earlier ones \
            have answered (at most --concurrency in flight; a request that would exceed it is \
            counted as not sent, `skipped`). Each carries X-User-ID, one of --users users. \
            A progress line goes to standard error every 5 s; the report, at the end, to \
            standard output: sent, answered, statuses, upstreams (X-Served-By), transport errors, \
            p50 and p99 in milliseconds.
            """
    )

    @Option(help: "The route, without the item (http://127.0.0.1:8080/checkout).")
    var url: String
    @Option(help: "Requests per second.")
    var rate = 200.0
    @Option(help: "Seconds to run (default: until SIGTERM or SIGINT).")
    var duration: Double?
    @Option(help: "Distinct users (X-User-ID values).")
    var users = 1000
    @Option(help: "Requests in flight, at most.")
    var concurrency = 512
    @Option(help: "Seeds the users and items.")
    var seed: UInt64 = 1

    func validate() throws {
        guard URL(string: url)?.host != nil else { throw ValidationError("--url \(url): expected http://HOST:PORT/PATH") }
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate \(rate): expected 0 < rate <= 100000") }
        if let duration, duration <= 0 { throw ValidationError("--duration \(duration): expected a positive number of seconds") }
        guard users > 0 else { throw ValidationError("--users \(users): expected at least 1") }
        guard concurrency > 0 else { throw ValidationError("--concurrency \(concurrency): expected at least 1") }
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let shared = LoadRun()
        let random = SeededRandom(seed: seed)
        let clock = ContinuousClock()
        let start = clock.now
        let end = duration.map { start + .milliseconds(Int64($0 * 1000)) }
        let interval = Duration.nanoseconds(Int64(1e9 / rate))
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url

        await withDiscardingTaskGroup { watchers in
            watchers.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    shared.stopped.store(true, ordering: .relaxed)
                    return
                }
            }
            watchers.addTask {
                while !shared.stopped.load(ordering: .relaxed) {
                    try? await Task.sleep(for: .seconds(5))
                    writeError("load: " + shared.tally.withLock { $0.summary })
                }
            }
            // Returns once every request sent has ended.
            await withDiscardingTaskGroup { requests in
                var next = start
                while !shared.stopped.load(ordering: .relaxed) {
                    if let end, next >= end { break }
                    try? await Task.sleep(until: next, clock: clock)
                    next += interval
                    guard shared.inFlight.add(1, ordering: .relaxed).newValue <= concurrency else {
                        shared.inFlight.subtract(1, ordering: .relaxed)
                        shared.tally.withLock { $0.skipped += 1 }
                        continue
                    }
                    let user = Int(random.nextUnit() * Double(users))
                    let item = Int(random.nextUnit() * 10_000)
                    shared.tally.withLock { $0.sent += 1 }
                    requests.addTask {
                        defer { shared.inFlight.subtract(1, ordering: .relaxed) }
                        await send(client, "\(base)/\(item)", user: "user-\(user)", into: shared)
                    }
                }
            }
            shared.stopped.store(true, ordering: .relaxed)
            // The signal watcher waits for a signal that may never come.
            watchers.cancelAll()
        }
        try await client.shutdown()
        writeLine(shared.tally.withLock { $0.json })
    }

    private func send(_ client: HTTPClient, _ url: String, user: String, into shared: LoadRun) async {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "X-User-ID", value: user)
        let clock = ContinuousClock()
        let began = clock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            let seconds = (clock.now - began).seconds
            let upstream = response.headers.first(name: "X-Served-By")
            shared.tally.withLock {
                $0.statuses[response.status.code, default: 0] += 1
                if let upstream { $0.servedBy[upstream, default: 0] += 1 }
                $0.latencies.append(seconds)
            }
        } catch {
            let kind = String(describing: error).prefix(100)
            shared.tally.withLock { $0.transportErrors[String(kind), default: 0] += 1 }
        }
    }
}

/// What the generator's tasks share.
final class LoadRun: Sendable {
    let tally = Mutex(LoadTally())
    let stopped = Atomic(false)
    let inFlight = Atomic(0)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
