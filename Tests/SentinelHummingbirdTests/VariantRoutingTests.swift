import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Resilience
import SentinelHummingbird
import Testing

/// A request key keeps a user on one traffic-split variant, the handler learns
/// the variant from its context, and weight changes move users one way only.
@Suite struct VariantRoutingTests {
    static let users = (0..<200).map { "user-\($0)" }

    /// The variant a key is routed to under `weights`, as the split's core computes it.
    static func expected(_ user: String, _ variants: [(name: String, weight: Double)]) -> String {
        variants[SplitCore.choose(point: SplitCore.point(forKey: user), weights: variants.map(\.weight))].name
    }

    @Test func headerKeyKeepsAUserOnTheVariantTheHandlerIsTold() async throws {
        let variants: [(name: String, weight: Double)] = [("canary", 30), ("stable", 70)]
        let route = try RouteFixture { TrafficSplit(variants) }
        var canaries = 0
        try await route.test(.init(requestKey: .header(.user)), handler: echoVariant) { client async throws in
            for user in Self.users {
                let first = String(buffer: try await client.get("/r", user: user).body)
                let second = String(buffer: try await client.get("/r", user: user).body)
                #expect(first == Self.expected(user, variants))
                #expect(second == first)
            }
        }
        canaries = Self.users.filter { Self.expected($0, variants) == "canary" }.count
        #expect(route.pipeline.variantWindows[0].windows.totals().stats.calls == 2 * canaries)
        #expect(route.pipeline.variantWindows[1].windows.totals().stats.calls == 2 * (Self.users.count - canaries))
    }

    @Test func pathParameterKeyKeepsAUserOnAVariant() async throws {
        let variants: [(name: String, weight: Double)] = [("canary", 50), ("stable", 50)]
        let route = try RouteFixture { TrafficSplit(variants) }
        try await route.test(.init(requestKey: .pathParameter("user")), handler: echoVariant) { client async throws in
            for user in Self.users.prefix(50) {
                let body = String(buffer: try await client.get("/r/users/\(user)").body)
                #expect(body == Self.expected(user, variants))
            }
        }
    }

    @Test func requestsWithoutAKeyAreSplitByWeight() async throws {
        let everything = try RouteFixture { TrafficSplit([("canary", 0), ("stable", 100)]) }
        try await everything.test(.init(requestKey: .header(.user)), handler: echoVariant) { client async throws in
            for _ in 0..<20 { #expect(String(buffer: try await client.get("/r").body) == "stable") }
        }
        // Half and half: 200 keyless requests land on both, near 100 each (7 standard deviations either side).
        let halves = try RouteFixture { TrafficSplit([("canary", 50), ("stable", 50)]) }
        try await halves.test(.init(requestKey: .header(.user)), handler: echoVariant) { client async throws in
            var canary = 0
            for _ in 0..<200 where String(buffer: try await client.get("/r").body) == "canary" { canary += 1 }
            #expect((50...150).contains(canary), "\(canary) of 200 to the canary")
        }
    }

    @Test func pipelineWithoutSplitTellsNoVariant() async throws {
        let route = try RouteFixture { Bulkhead(maxConcurrent: 4) }
        try await route.test(handler: echoVariant) { client async throws in
            #expect(String(buffer: try await client.get("/r", user: "a").body) == "none")
        }
    }

    @Test func contextWithoutVariantStillGoesThroughThePipeline() async throws {
        struct PlainContext: RequestContext {
            var coreContext: CoreRequestContextStorage
            init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
        }
        let registry = ParameterRegistry()
        let pipeline = try Pipeline("plain", registry: registry) { TrafficSplit([("canary", 50), ("stable", 50)]) }
        let router = Router(context: PlainContext.self)
        router.add(middleware: try PipelineMiddleware<PlainContext>(pipeline: pipeline)).get("p") { _, _ in "served" }
        try await Application(router: router).test(.router) { client async throws in
            #expect(String(buffer: try await client.execute(uri: "/p", method: .get).body) == "served")
        }
        #expect(pipeline.windows.totals().stats.calls == 1)
    }

    /// Weight steps up then down, as a canary rollout and its rollback set them.
    static let steps = Array(stride(from: 0.0, through: 100, by: 10)) + Array(stride(from: 90.0, through: 0, by: -10))

    @Test(arguments: [(true, true), (false, true), (true, false), (false, false)])
    func weightChangesMoveUsersOneWayOnly(canaryFirst: Bool, complementary: Bool) async throws {
        let variants: [(name: String, weight: Double)] =
            canaryFirst ? [("canary", 0), ("stable", 100)] : [("stable", 100), ("canary", 0)]
        let route = try RouteFixture { TrafficSplit(variants) }
        let canary = try #require(route.pipeline.knob("canary_weight", as: Double.self))
        let stable = try #require(route.pipeline.knob("stable_weight", as: Double.self))
        try await route.test(.init(requestKey: .header(.user)), handler: echoVariant) { client async throws in
            var previous = (weight: 0.0, onCanary: Set<String>())
            for weight in Self.steps {
                try canary.set(weight)
                // Either the stable weight makes room, or it stays and the canary's share grows anyway.
                try stable.set(complementary ? 100 - weight : 100)
                var onCanary = Set<String>()
                for user in Self.users where String(buffer: try await client.get("/r", user: user).body) == "canary" {
                    onCanary.insert(user)
                }
                if weight >= previous.weight {
                    #expect(previous.onCanary.isSubset(of: onCanary), "raising \(previous.weight) → \(weight) moved users back")
                } else {
                    #expect(onCanary.isSubset(of: previous.onCanary), "lowering \(previous.weight) → \(weight) moved users in")
                }
                if weight == 0 { #expect(onCanary.isEmpty) }
                if weight == 100 && complementary { #expect(onCanary.count == Self.users.count) }
                previous = (weight, onCanary)
            }
        }
        #expect(route.handlerCalls.value == Self.steps.count * Self.users.count)
    }
}
