import Resilience
import Testing

@testable import Simulation

@Suite struct DistributionTests {
    func quantiles(_ distribution: LatencyDistribution, count: Int = 200_000) -> (p50: Double, p99: Double, samples: [Double]) {
        var random = Xoshiro256StarStar(seed: 3)
        let samples = (0..<count).map { _ in distribution.sample(&random) }.sorted()
        return (samples[count / 2], samples[count * 99 / 100], samples)
    }

    @Test func logNormalHitsItsMedianAndP99() {
        let (p50, p99, _) = quantiles(.logNormal(p50: 0.040, p99: 0.200))
        #expect(abs(p50 / 0.040 - 1) < 0.02, "p50 \(p50)")
        #expect(abs(p99 / 0.200 - 1) < 0.03, "p99 \(p99)")
    }

    @Test func uniformStaysWithinItsBounds() {
        let (p50, _, samples) = quantiles(.uniform(min: 0.010, max: 0.050))
        #expect(samples.first! >= 0.010 && samples.last! < 0.050)
        #expect(abs(p50 - 0.030) < 0.001)
    }

    @Test func bimodalDrawsTheSlowFraction() {
        let (_, _, samples) = quantiles(.bimodal(fast: .fixed(0.01), slow: .fixed(1), slowFraction: 0.1))
        let slow = Double(samples.filter { $0 == 1 }.count) / Double(samples.count)
        #expect(abs(slow - 0.1) < 0.005)
    }

    @Test func theSameSeedDrawsTheSameLatencies() {
        var a = Xoshiro256StarStar(seed: 9), b = Xoshiro256StarStar(seed: 9)
        let distribution = LatencyDistribution.logNormal(p50: 0.04, p99: 0.2)
        #expect((0..<100).map { _ in distribution.sample(&a) } == (0..<100).map { _ in distribution.sample(&b) })
    }

    @Test func trafficPatterns() {
        #expect(TrafficPattern.constant.rate(at: 50, base: 100, duration: 100) == 100)
        #expect(TrafficPattern.ramp(to: 300).rate(at: 50, base: 100, duration: 100) == 200)
        let steps = TrafficPattern.step([.init(at: 10, rate: 50), .init(at: 20, rate: 0)])
        #expect(steps.rate(at: 5, base: 100, duration: 100) == 100)
        #expect(steps.rate(at: 10, base: 100, duration: 100) == 50)
        #expect(steps.rate(at: 25, base: 100, duration: 100) == 0)
        let diurnal = TrafficPattern.diurnal(period: 100, amplitude: 0.5)
        #expect(abs(diurnal.rate(at: 25, base: 100, duration: 1000) - 150) < 1e-9)
        #expect(abs(diurnal.rate(at: 75, base: 100, duration: 1000) - 50) < 1e-9)
        let spike = TrafficPattern.spike(at: 10, length: 5, factor: 4)
        #expect(spike.rate(at: 9.9, base: 100, duration: 100) == 100)
        #expect(spike.rate(at: 12, base: 100, duration: 100) == 400)
        #expect(spike.rate(at: 15, base: 100, duration: 100) == 100)
    }
}
