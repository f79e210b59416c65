import ArgumentParser
import Hummingbird
import Logging

/// `checkout-service inventory`: the downstream service, with faults injected from its flags.
struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "A small inventory server: GET /items/ID answers the stock, with injected errors and latency.",
        discussion: """
            Every answer carries `served_by: NAME`. A share of the requests (--error-rate) answers \
            500; every request waits --latency-ms, and a share (--slow-rate) waits --slow-ms instead.
            """
    )

    @Option(help: "The name in every answer (stable, canary).")
    var name = "stable"
    @Option(help: "The address to listen on (loopback by default).")
    var host = "127.0.0.1"
    @Option(help: "The port (0: any free port, printed when listening).")
    var port = 0
    @Option(name: .customLong("error-rate"), help: "Share of requests answered 500, 0...1.")
    var errorRate = 0.0
    @Option(name: .customLong("latency-ms"), help: "Milliseconds every request waits.")
    var latencyMilliseconds = 20.0
    @Option(name: .customLong("slow-rate"), help: "Share of requests that wait --slow-ms instead, 0...1.")
    var slowRate = 0.0
    @Option(name: .customLong("slow-ms"), help: "Milliseconds a slow request waits.")
    var slowMilliseconds = 200.0
    @Option(help: "Seeds the injected faults.")
    var seed: UInt64 = 1

    func validate() throws {
        for (flag, share) in [("--error-rate", errorRate), ("--slow-rate", slowRate)] where !(0...1).contains(share) {
            throw ValidationError("\(flag) \(share): expected a share between 0 and 1")
        }
        for (flag, milliseconds) in [("--latency-ms", latencyMilliseconds), ("--slow-ms", slowMilliseconds)]
        where !(0...60_000).contains(milliseconds) {
            throw ValidationError("\(flag) \(milliseconds): expected 0 to 60000 milliseconds")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): expected 0 to 65535") }
    }

    func run() async throws {
        let random = SeededRandom(seed: seed)
        let router = Router()
        let name = name, errorRate = errorRate, slowRate = slowRate
        let latency = Duration.microseconds(Int64(latencyMilliseconds * 1000))
        let slow = Duration.microseconds(Int64(slowMilliseconds * 1000))
        router.get("/items/:id") { _, context -> Response in
            let item = context.parameters.get("id") ?? ""
            let failing = random.nextUnit() < errorRate
            let wait = random.nextUnit() < slowRate ? slow : latency
            if wait > .zero { try await Task.sleep(for: wait) }
            if failing {
                return Response(
                    status: .internalServerError, headers: [.servedBy: name],
                    body: .init(byteBuffer: ByteBuffer(string: "injected error\n")))
            }
            let stock = item.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) % 1000 }
            let body = #"{"item":"\#(item)","stock":\#(stock),"served_by":"\#(name)"}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json", .servedBy: name],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        var logger = Logger(label: "inventory-\(name)")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "inventory-\(name)"),
            onServerRunning: { announceListening("inventory \(name)", $0) }, logger: logger)
        try await app.runService()
    }
}
