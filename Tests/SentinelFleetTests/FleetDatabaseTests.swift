import Testing

@testable import SentinelFleet

@Suite struct FleetDatabaseTests {
    @Test func readsAURLWithoutAPassword() throws {
        let database = try FleetDatabase(
            url: "postgres://sentinel@db.internal:6432/fleet?sslmode=require&schema=checkout", password: "s3cret")
        #expect(database.host == "db.internal" && database.port == 6432 && database.username == "sentinel")
        #expect(database.database == "fleet" && database.tls == .require && database.schema == "checkout")
        #expect(database.description == "postgres://sentinel@db.internal:6432/fleet?schema=checkout")
        #expect(!database.description.contains("s3cret"))
        let defaults = try FleetDatabase(url: "postgresql://app%40corp@[::1]/sentinel", password: nil)
        #expect(defaults.host == "::1" && defaults.port == 5432 && defaults.username == "app@corp" && defaults.tls == .prefer)
        #expect(defaults.schema == "public")
    }

    @Test(arguments: [
        ("postgres://sentinel:hunter2@db/fleet", "carries a password"),
        ("mysql://sentinel:hunter2@db/fleet", "expected a URL of the form postgres://"),
        ("postgres://sentinel@db/fleet?password=hunter2", "unknown URL parameter 'password'"),
        ("postgres://sentinel@db", "names no database"),
        ("postgres://db/fleet", "names no user"),
        ("postgres://sentinel@db:99999/fleet", "not a number from 1 to 65535"),
        ("postgres://sentinel@db/fleet?sslmode=maybe", "sslmode must be"),
        ("postgres://sentinel@db/fleet?schema=Drop;Table", "schema"),
        ("postgres://sentinel@db/fleet?timeout=3", "unknown URL parameter"),
    ])
    func refusesWhatItCannotUse(url: String, message: String) {
        #expect {
            _ = try FleetDatabase(url: url, password: nil)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && !text.contains("hunter2")
        }
    }

    @Test func instanceNames() {
        #expect(FleetMember.isValidInstanceName("checkout-1.eu_west"))
        #expect(!FleetMember.isValidInstanceName(""))
        #expect(!FleetMember.isValidInstanceName("a b"))
        #expect(!FleetMember.isValidInstanceName(String(repeating: "x", count: 65)))
    }

    @Test func schemasHaveTheirOwnLockKeys() {
        #expect(FleetSchema.key("public") != FleetSchema.key("checkout"))
        #expect(FleetSchema.key("checkout") >= 0)
    }
}

@Suite struct DoorbellTests {
    @Test func aRingWakesOneWaitAndLeavesNothingBehind() async {
        let doorbell = Doorbell()
        doorbell.ring()
        doorbell.ring()
        let clock = ContinuousClock()
        // Rings before the wait coalesce into one: the first wait returns at once...
        var elapsed = await clock.measure { await doorbell.wait(timeout: .seconds(30)) }
        #expect(elapsed < .seconds(5))
        // ...and the second waits for its timeout, as nothing rang since (a timer of an earlier wait rings nothing).
        elapsed = await clock.measure { await doorbell.wait(timeout: .milliseconds(100)) }
        #expect(elapsed >= .milliseconds(100))
        let ringer = Task {
            try? await Task.sleep(for: .milliseconds(20))
            doorbell.ring()
        }
        elapsed = await clock.measure { await doorbell.wait(timeout: .seconds(30)) }
        #expect(elapsed < .seconds(5))
        await ringer.value
        elapsed = await clock.measure { await doorbell.wait(timeout: .milliseconds(100)) }
        #expect(elapsed >= .milliseconds(100))
    }

    @Test func aCancelledWaitReturns() async {
        let doorbell = Doorbell()
        let waiting = Task { await doorbell.wait(timeout: .seconds(600)) }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await waiting.value
    }
}
