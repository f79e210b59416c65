import HTTPTypes
import Resilience
import SentinelHummingbird
import Testing

/// How a limiter's status is written as the draft's structured fields.
@Suite struct RateLimitFieldsTests {
    @Test(arguments: [
        // rate, capacity, available, expected RateLimit-Policy, expected RateLimit
        (10.0, 1.0, 1.0, #""default";q=1;w=1"#, #""default";r=1;t=0"#),
        (0.5, 1.0, 0.0, #""default";q=1;w=2"#, #""default";r=0;t=2"#),
        (100.0, 100.0, 99.5, #""default";q=100;w=1"#, #""default";r=99;t=1"#),
        (1.0, 60.0, 30.0, #""default";q=60;w=60"#, #""default";r=30;t=30"#),
    ])
    func quotaWindowRemainingAndReset(rate: Double, capacity: Double, available: Double, policy: String, limit: String) {
        let fields = RateLimitFields(policy: "default", status: RateLimitStatus(rate: rate, capacity: capacity, available: available))
        #expect(fields.policyField == policy)
        #expect(fields.limitField == limit)
    }

    @Test func resetIsNeverShorterThanRetryAfter() {
        let status = RateLimitStatus(rate: 10, capacity: 1, available: 0)
        #expect(RateLimitFields(policy: "p", status: status).reset == 1)
        #expect(RateLimitFields(policy: "p", status: status, retryAfter: .milliseconds(2500)).reset == 3)
    }

    @Test func policyNameIsAnEscapedString() {
        let fields = RateLimitFields(policy: #"a"b\c"#, status: RateLimitStatus(rate: 1, capacity: 1, available: 1))
        #expect(fields.policyField == #""a\"b\\c";q=1;w=1"#)
        #expect(RateLimitFields.isValidPolicyName("per-user"))
        #expect(!RateLimitFields.isValidPolicyName(""))
        #expect(!RateLimitFields.isValidPolicyName("tab\there"))
    }

    @Test func legacyTrioOnlyWhenAsked() {
        let fields = RateLimitFields(policy: "default", status: RateLimitStatus(rate: 5, capacity: 5, available: 2))
        var draft = HTTPFields()
        fields.write(to: &draft, legacy: false)
        #expect(draft[.rateLimitLimit] == nil)
        var both = HTTPFields()
        fields.write(to: &both, legacy: true)
        #expect(both[.rateLimitLimit] == "5")
        #expect(both[.rateLimitRemaining] == "2")
        #expect(both[.rateLimitReset] == "1")
    }
}
