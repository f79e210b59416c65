import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Resilience
import Sentinel
import Testing

@testable import SentinelAdmin

/// The admin API's routes, in process: authentication, reading, commands,
/// and every refusal with its status and error code.
@Suite struct AdminRouteTests {
    @Test func healthAndReadinessNeedNoToken() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let health = try await client.get("/healthz", token: nil)
            #expect(health.status == .ok && health.json["status"] == "ok")
            let ready = try await client.get("/readyz", token: nil)
            #expect(ready.status == .ok && ready.json["ready"] == .bool(true))
            #expect(health.headers[.cacheControl] == "no-store")
        }
    }

    @Test(arguments: ["/v1/status", "/v1/params", "/v1/whoami", "/v1/audit", "/v1/fleet", "/metrics"])
    func everythingElseNeedsAValidToken(_ path: String) async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            for token in [nil, "wrong", ""] as [String?] {
                let response = try await client.get(path, token: token)
                #expect(response.status == .unauthorized, "\(path) with \(token ?? "no token")")
                #expect(response.errorCode == "unauthorized")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            let lowercase = try await client.execute(
                uri: path, method: .get, headers: [.authorization: "bearer \(AdminFixture.aliceToken)"])
            #expect(lowercase.status != .unauthorized, "the scheme is case-insensitive")
        }
    }

    @Test func metricsCanBePublic() async throws {
        let fixture = try AdminFixture(metricsPublic: true)
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let metrics = try await client.get("/metrics", token: nil)
            let status = try await client.get("/v1/status", token: nil)
            #expect(metrics.status != .unauthorized)
            #expect(status.status == .unauthorized)
        }
    }

    @Test func whoamiNamesTheIdentityItsRolesAndWhatItMayRun() async throws {
        var configuration = ControlPlaneConfiguration()
        configuration.access.roles["viewer"] = Role(grants: [Grant(commands: ["param.get"])])
        configuration.access.roles["incident"] = Role(grants: [Grant(commands: ["automation.*", "param.*"])])
        configuration.access.assignments["operator:viewer"] = ["viewer"]
        configuration.access.assignments["operator:alice"] = ["incident"]
        let fixture = try AdminFixture(configuration: configuration)
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let alice = try await client.get("/v1/whoami").json
            #expect(alice["identity"] == "operator:alice" && alice["roles"] == ["incident"])
            let allowed = alice["allowed_commands"].arrayValue?.compactMap(\.stringValue) ?? []
            #expect(allowed.contains("automation.freeze") && allowed.contains("param.set") && !allowed.contains("trial.start"))
            let viewer = try await client.get("/v1/whoami", token: AdminFixture.viewerToken).json
            #expect(viewer["allowed_commands"] == ["param.get"])
        }
    }

    @Test func aFreezeThroughTheAPIIsTheOperatorsAndAudited() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.post("/v1/commands", #"{"command": "automation.freeze", "reason": "incident 42"}"#)
            #expect(response.status == .ok)
            #expect(response.json["outcome"] == "applied" && response.json["result"]["frozen"] == .bool(true))
            #expect(response.json["audit"]["actor"] == "operator:alice" && response.json["audit"]["reason"] == "incident 42")
            #expect(fixture.plane.frozen?.by == "operator:alice" && fixture.plane.frozen?.reason == "incident 42")
            let status = try await client.get("/v1/status").json
            #expect(status["frozen"]["by"] == "operator:alice")
        }
    }

    @Test func aCommandWithoutTheGrantIsDeniedAndAudited() async throws {
        var configuration = ControlPlaneConfiguration()
        configuration.access.roles["viewer"] = Role(grants: [Grant(commands: ["param.get"])])
        configuration.access.assignments["operator:viewer"] = ["viewer"]
        let fixture = try AdminFixture(configuration: configuration)
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.post(
                "/v1/commands", #"{"command": "automation.freeze", "reason": "x"}"#, token: AdminFixture.viewerToken)
            #expect(response.status == .forbidden && response.errorCode == "denied")
            #expect(response.json["error"]["audit"]["outcome"] == "denied")
            #expect(fixture.plane.audit.last?.outcome == .denied && fixture.plane.audit.last?.actor == "operator:viewer")
            #expect(fixture.plane.frozen == nil)
        }
    }

    @Test(arguments: [
        (
            #"{"command": "param.set", "args": {"param": "checkout.retry.max_attempts", "value": 500}}"#, HTTPResponse.Status.conflict,
            "rejected"
        ),
        (#"{"command": "param.set", "args": {"param": "checkout.nope.knob", "value": 1}}"#, .badRequest, "invalid_argument"),
        (#"{"command": "param.set", "args": {"param": "checkout.retry.max_attempts"}}"#, .badRequest, "invalid_argument"),
        (#"{"command": "param.explode"}"#, .notFound, "unknown_command"),
        (#"{"command": "automation.freeze", "colour": "red"}"#, .badRequest, "bad_request"),
        (#"{"args": {}}"#, .badRequest, "bad_request"),
        (#"{"command": 42}"#, .badRequest, "bad_request"),
        (#"{"command": "automation.freeze", "args": []}"#, .badRequest, "bad_request"),
        (#"{"command": "automation.freeze", "dry_run": "yes"}"#, .badRequest, "bad_request"),
        (#"[1, 2]"#, .badRequest, "bad_request"),
        (#"{"command": "automation.freeze""#, .badRequest, "bad_request"),
    ])
    func badCommandsAreRefusedWithTheirStatus(_ body: String, _ status: HTTPResponse.Status, _ code: String) async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.post("/v1/commands", body)
            #expect(response.status == status, "\(body): \(String(buffer: response.body))")
            #expect(response.errorCode == code)
            #expect(response.json["error"]["message"].stringValue?.isEmpty == false)
        }
    }

    @Test func aGuardRefusalIs409AndChangesNothing() async throws {
        var configuration = ControlPlaneConfiguration()
        configuration.guards.parameters = [ParameterGuard(pattern: "checkout.split.*", maxStepUp: 10)]
        let fixture = try AdminFixture(configuration: configuration)
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let response = try await client.post(
                "/v1/commands",
                #"{"command": "param.set", "args": {"param": "checkout.split.canary_weight", "value": 50}, "reason": "jump"}"#)
            #expect(response.status == .conflict && response.json["error"]["audit"]["outcome"] == "rejected")
            #expect(try fixture.registry.value("checkout.split.canary_weight") == 0)
        }
    }

    @Test func bodiesThatAreNotJSONOrTooLargeAreRefused() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let form = try await client.post("/v1/commands", "command=automation.freeze", contentType: "application/x-www-form-urlencoded")
            #expect(form.status == .unsupportedMediaType && form.errorCode == "unsupported_media_type")
            let huge = "{\"command\": \"automation.freeze\", \"reason\": \"" + String(repeating: "x", count: 70_000) + "\"}"
            let large = try await client.post("/v1/commands", huge)
            #expect(large.status == .contentTooLarge && large.errorCode == "body_too_large")
            #expect(fixture.plane.frozen == nil)
        }
    }

    @Test func onlyPostMutates() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let get = try await client.get("/v1/commands")
            #expect(get.status == .methodNotAllowed && get.errorCode == "method_not_allowed")
            let delete = try await client.execute(
                uri: "/v1/params", method: .delete, headers: [.authorization: "Bearer \(AdminFixture.aliceToken)"])
            #expect(delete.status == .methodNotAllowed)
            let missing = try await client.get("/v1/nothing")
            #expect(missing.status == .notFound && missing.errorCode == "not_found")
        }
    }

    @Test func anIdempotencyKeyReturnsTheFirstAnswerWithoutRunningAgain() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let body =
                #"{"command": "param.set", "args": {"param": "checkout.split.canary_weight", "value": 5}, "reason": "step", "idempotency_key": "k-1"}"#
            let first = try await client.post("/v1/commands", body)
            #expect(first.status == .ok)
            let entries = fixture.plane.audit.entries.count
            let again = try await client.post("/v1/commands", body)
            #expect(again.status == .ok && again.json == first.json)
            #expect(fixture.plane.audit.entries.count == entries, "not run a second time")
            let other = try await client.post(
                "/v1/commands",
                #"{"command": "param.set", "args": {"param": "checkout.split.canary_weight", "value": 9}, "idempotency_key": "k-1"}"#)
            #expect(other.status == .unprocessableContent && other.errorCode == "idempotency_key_reused")
            // Another identity's key of the same name is its own.
            let viewer = try await client.post("/v1/commands", body, token: AdminFixture.viewerToken)
            #expect(viewer.status == .ok && fixture.plane.audit.entries.count == entries + 1)
        }
    }

    @Test func paramsShowValuesBoundsAndTheirLastChange() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            _ = try await client.post(
                "/v1/commands",
                #"{"command": "param.set", "args": {"param": "checkout.retry.max_attempts", "value": 2}, "reason": "fewer"}"#)
            let params = try await client.get("/v1/params").json
            let attempts = params["checkout.retry.max_attempts"]
            #expect(attempts["value"] == .double(2) && attempts["min"] == .double(1) && attempts["max"] == .double(100))
            #expect(attempts["last_change"]["actor"] == "operator:alice" && attempts["last_change"]["reason"] == "fewer")
            #expect(params["checkout.timeout.duration"]["last_change"] == .null)
        }
    }

    @Test func aTrialsShadowsAndItsAbortCarryTheCommandsReason() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let start = try await client.post(
                "/v1/commands",
                #"{"command": "trial.start", "args": {"name": "tighter", "params": {"checkout.timeout.duration": "300ms"}}, "reason": "p99 leaves room"}"#
            )
            #expect(start.status == .ok)
            var change = try await client.get("/v1/params").json["checkout.timeout.duration"]
            #expect(change["shadow"] == .double(0.3))
            #expect(change["last_change"]["actor"] == "operator:alice" && change["last_change"]["reason"] == "p99 leaves room")
            let abort = try await client.post(
                "/v1/commands", #"{"command": "trial.abort", "args": {"name": "tighter"}, "reason": "not now"}"#)
            #expect(abort.status == .ok)
            change = try await client.get("/v1/params").json["checkout.timeout.duration"]
            #expect(change["shadow"] == .null && change["last_change"]["reason"] == "not now")
        }
    }

    @Test func scriptsShowTheirLastEvaluationAndItsError() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        let flaky = """
            return { interval = "1s", evaluate = function(state, memory)
              memory.n = (memory.n or 0) + 1
              if memory.n == 2 then error("second run fails") end
            end }
            """
        _ = try await fixture.runtime.engine.load(path: "flaky.lua", source: flaky).get()
        try await fixture.test { client in
            var script = try await client.get("/v1/scripts").json["scripts"][0]
            #expect(script["name"] == "flaky" && script["evaluations"] == .int(0))
            #expect(script["last_evaluation"] == .null && script["last_error"] == .null)

            fixture.clock.advance(by: .seconds(1))
            _ = await fixture.runtime.round()
            script = try await client.get("/v1/scripts").json["scripts"][0]
            #expect(script["last_evaluation"] == "2027-01-15T08:00:01.000Z" && script["last_error"] == .null)

            fixture.clock.advance(by: .seconds(1))
            _ = await fixture.runtime.round()
            script = try await client.get("/v1/scripts").json["scripts"][0]
            #expect(script["failures"] == .int(1) && script["last_evaluation"] == "2027-01-15T08:00:02.000Z")
            #expect(script["last_error"].stringValue?.contains("second run fails") == true)

            // A new version has not run yet: the old version's error goes.
            _ = try await fixture.runtime.engine.load(path: "flaky.lua", source: "-- fixed\n" + flaky).get()
            script = try await client.get("/v1/scripts").json["scripts"][0]
            #expect(script["last_error"] == .null && script["last_evaluation"] == "2027-01-15T08:00:02.000Z")

            fixture.clock.advance(by: .seconds(1))
            _ = await fixture.runtime.round()
            script = try await client.get("/v1/scripts").json["scripts"][0]
            #expect(script["last_error"] == .null, "a run that succeeds clears the error")
        }
    }

    @Test func pipelinesAndOnePipeline() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let all = try await client.get("/v1/pipelines").json
            #expect(all["checkout"]["windows"]["1m"]["calls"] != .null)
            let one = try await client.get("/v1/pipelines/checkout")
            #expect(one.status == .ok && one.json["windows"] != .null)
            let missing = try await client.get("/v1/pipelines/nope")
            #expect(missing.status == .notFound)
        }
    }

    @Test func theAuditIsFilteredAndBounded() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            for step in 1...3 {
                _ = try await client.post(
                    "/v1/commands", #"{"command": "param.set", "args": {"param": "checkout.split.canary_weight", "value": \#(step)}}"#)
            }
            _ = try await client.post("/v1/commands", #"{"command": "automation.freeze", "reason": "r"}"#)
            let sets = try await client.get("/v1/audit?action=param.set&limit=2").json
            #expect(sets["entries"].arrayValue?.count == 2 && sets["source"] == "memory")
            #expect(sets["entries"][0]["args"]["value"] == .int(2), "the newest two, oldest first")
            let frozen = try await client.get("/v1/audit?actor=operator:alice&action=automation.freeze").json
            #expect(frozen["entries"].arrayValue?.count == 1)
            for bad in ["limit=0", "limit=1001", "since=yesterday", "outcome=maybe", "colour=red"] {
                let response = try await client.get("/v1/audit?\(bad)")
                #expect(response.status == .badRequest && response.errorCode == "bad_request", "\(bad)")
            }
        }
    }

    @Test func fleetReportsThisProcess() async throws {
        let fixture = try AdminFixture()
        defer { fixture.cleanUp() }
        try await fixture.test { client in
            let fleet = try await client.get("/v1/fleet").json
            #expect(fleet["leader"] == "test-1" && fleet["term"] == .int(0))
            #expect(fleet["instances"][0]["id"] == "test-1" && fleet["instances"][0]["scripts_hash"].stringValue?.count == 16)
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue {
        guard let array = arrayValue, array.indices.contains(index) else { return .null }
        return array[index]
    }
}
