import Resilience
import Testing

/// The one checked conversion every user-given number goes through.
@Suite struct InputRangeTests {
    @Test(arguments: [0.1, 12, 86_400])
    func aValueInRangeIsReturned(_ seconds: Double) throws {
        #expect(try InputRange.scriptInterval.check(seconds) == seconds)
    }

    @Test(arguments: [
        (1e10, "1e10 s is out of range (expected from 100ms to 24h)"),
        (9_223_372_036, "9.22e9 s is out of range (expected from 100ms to 24h)"),
        (0.05, "50ms is out of range (expected from 100ms to 24h)"),
        (Double.infinity, "inf is not a finite number (expected from 100ms to 24h)"),
        (Double.nan, "nan is not a finite number (expected from 100ms to 24h)"),
        (-1, "-1s is out of range (expected from 100ms to 24h)"),
    ])
    func aValueOutOfRangeSaysWhatWasExpected(_ seconds: Double, _ message: String) {
        #expect(throws: InputRangeError(message)) { try InputRange.scriptInterval.check(seconds) }
    }

    @Test func durationsNeverTrap() throws {
        #expect(try Duration(checkedSeconds: 0.25) == .milliseconds(250))
        #expect(try Duration(checkedSeconds: 365 * 86_400) == .seconds(365 * 86_400))
        for seconds in [1e10, 1.79e308, -5, .nan, .infinity, 9_223_372_037] {
            #expect(throws: InputRangeError.self) { try Duration(checkedSeconds: seconds) }
        }
        // A custom range wider than Int64 nanoseconds still refuses instead of trapping.
        let wide = InputRange(0, 1e12, unit: .seconds)
        #expect(throws: InputRangeError.self) { try Duration(checkedSeconds: 1e11, in: wide) }
    }

    @Test func wholeNumbersAreChecked() throws {
        #expect(try InputRange.trafficKeys.checkWhole(40) == 40)
        #expect(throws: InputRangeError.self) { try InputRange.trafficKeys.checkWhole(4.5) }
        #expect(throws: InputRangeError.self) { try InputRange.trafficKeys.checkWhole(1e12) }
    }

    @Test func theLowerBoundMayBeExcluded() {
        #expect(throws: InputRangeError.self) { try InputRange.scenarioDuration.check(0) }
        #expect((try? InputRange.scenarioDuration.check(1)) == 1)
        #expect(InputRange.scenarioDuration.description == "above 0s up to 30 days")
    }

    @Test func valuesReadWell() {
        #expect(InputRange.text(16 * 1_048_576, .bytes) == "16MiB")
        #expect(InputRange.text(1000, .bytes) == "1000 bytes")
        #expect(InputRange.text(5400, .seconds) == "90m")
        #expect(InputRange.text(1.5, .seconds) == "1.5s")
        #expect(InputRange.text(-2.5e12, .number) == "-2.5e12")
    }

    @Test func excerptsAreBounded() {
        let long = String(repeating: "x", count: 1_000_000)
        #expect(long.excerpt().count == 81)
        #expect(long.excerpt(10) == "xxxxxxxxxx…")
        #expect("short".excerpt() == "short")
    }
}
