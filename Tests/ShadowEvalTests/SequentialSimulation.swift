import Foundation
import Resilience
import ShadowEval

/// Seeded simulations of canary steps for the sequential tests: cumulative
/// counts since the mark, one look every 10 s, each sequence seeded with
/// `seed + index` (``Xoshiro256StarStar``), so every figure is the same on
/// every run.
enum SequentialSimulation {
    /// `SENTINEL_CALIBRATION=1` runs the full calibration (`make calibration`).
    static var full: Bool { ProcessInfo.processInfo.environment["SENTINEL_CALIBRATION"] == "1" }

    /// Traffic of one step: calls per look on each side, and how many looks.
    struct Traffic: Sendable {
        var candidatePerLook: Int
        var referencePerLook: Int
        var looks: Int

        /// 1 % of 100 req/s to the canary, a look every 10 s, for `minutes`.
        static func onePercent(minutes: Int) -> Traffic {
            Traffic(candidatePerLook: 10, referencePerLook: 990, looks: minutes * 6)
        }
    }

    /// What the sequences said, and after how many candidate calls.
    struct Outcomes: Sendable, CustomStringConvertible {
        var sequences = 0
        var violationCalls: [Int] = []
        var passCalls: [Int] = []

        /// Notes a look's verdict (a violation, or a sequence's first pass); true when the sequence ends there.
        mutating func note(_ verdict: SequentialVerdict, calls: Int, passed: inout Bool, stopAtPass: Bool) -> Bool {
            if verdict == .violation {
                violationCalls.append(calls)
                return true
            }
            if verdict == .pass && !passed {
                passed = true
                passCalls.append(calls)
                return stopAtPass
            }
            return false
        }

        var violations: Int { violationCalls.count }
        var passes: Int { passCalls.count }
        /// Sequences that said violation within `calls` candidate calls.
        func violations(within calls: Int) -> Int { violationCalls.filter { $0 <= calls }.count }
        /// Sequences that said pass within `calls` candidate calls.
        func passes(within calls: Int) -> Int { passCalls.filter { $0 <= calls }.count }
        /// Candidate calls by which `share` of the sequences had said violation (nil if fewer did).
        func violationQuantile(_ share: Double) -> Int? { Self.quantile(violationCalls, share, of: sequences) }
        /// Candidate calls by which `share` of the sequences had said pass (nil if fewer did).
        func passQuantile(_ share: Double) -> Int? { Self.quantile(passCalls, share, of: sequences) }

        static func quantile(_ calls: [Int], _ share: Double, of sequences: Int) -> Int? {
            let needed = Int((share * Double(sequences)).rounded(.up))
            guard needed > 0, calls.count >= needed else { return nil }
            return calls.sorted()[needed - 1]
        }

        var description: String {
            "\(sequences) sequences: \(violations) violations (99 % by \(violationQuantile(0.99).map(String.init) ?? "-") calls), "
                + "\(passes) passes (95 % by \(passQuantile(0.95).map(String.init) ?? "-"), "
                + "99 % by \(passQuantile(0.99).map(String.init) ?? "-") calls), "
                + "violation share \(Double(violations) / Double(Swift.max(1, sequences))), "
                + "99 % Wilson upper \(wilsonUpper(violations, of: sequences))"
        }
    }

    /// The 99 % Wilson score upper bound of a share of `successes` in `trials`.
    static func wilsonUpper(_ successes: Int, of trials: Int, z: Double = 2.5758293035489004) -> Double {
        guard trials > 0 else { return 1 }
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Swift.min(1, (centre + spread) / (1 + z2 / n))
    }

    /// The 99 % Wilson score lower bound.
    static func wilsonLower(_ successes: Int, of trials: Int, z: Double = 2.5758293035489004) -> Double {
        guard trials > 0 else { return 0 }
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Swift.max(0, (centre - spread) / (1 + z2 / n))
    }

    /// Whether a false-alarm count is calibrated: the share at most `alpha`,
    /// and its 99 % Wilson upper bound at most `slack × alpha`.
    static func isCalibrated(_ alarms: Int, of sequences: Int, alpha: Double, slack: Double) -> Bool {
        Double(alarms) <= alpha * Double(sequences) && wilsonUpper(alarms, of: sequences) <= slack * alpha
    }

    // MARK: - Random draws

    /// Binomial draws by inversion (the means here are small).
    struct Binomial {
        let n: Int
        let odds: Double
        let zero: Double

        init(_ n: Int, _ p: Double) {
            self.n = n
            odds = p / (1 - p)
            zero = exp(Double(n) * log1p(-p))
        }

        func draw(_ rng: inout Xoshiro256StarStar) -> Int {
            var u = rng.nextUnit(), k = 0, probability = zero
            while u > probability && k < n {
                u -= probability
                probability *= Double(n - k) / Double(k + 1) * odds
                k += 1
            }
            return k
        }
    }

    /// A standard normal draw (Box-Muller).
    static func normal(_ rng: inout Xoshiro256StarStar) -> Double {
        let u = 1 - rng.nextUnit(), v = rng.nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    // MARK: - Proportions

    /// Anything that looks at cumulative counts and says a verdict.
    protocol CountJudge {
        mutating func look(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int) -> SequentialVerdict
    }

    /// The fixed-sample test at every look, as a rule that looks every 10 s
    /// would use it: a violation whenever it is significant at `1 − alpha`.
    struct FixedSampleJudge: CountJudge {
        var alpha: Double
        mutating func look(candidateBad: Int, candidateTotal: Int, referenceBad: Int, referenceTotal: Int) -> SequentialVerdict {
            let test = ProportionTest(
                candidateBad: candidateBad, candidateTotal: candidateTotal, referenceBad: referenceBad, referenceTotal: referenceTotal)
            return test.isSignificant(confidence: 1 - alpha) ? .violation : .continue
        }
    }

    /// Runs `sequences` steps with bad-outcome rates `candidateRate` and
    /// `referenceRate`. A sequence ends at its first violation, or at its first
    /// pass when `stopAtPass`; otherwise it runs all its looks (so a later
    /// violation after a pass still counts as a false alarm).
    static func proportions<Judge: CountJudge>(
        traffic: Traffic, candidateRate: Double, referenceRate: Double, sequences: Int, seed: UInt64,
        stopAtPass: Bool = false, judge makeJudge: () -> Judge
    ) -> Outcomes {
        let candidate = Binomial(traffic.candidatePerLook, candidateRate)
        let reference = Binomial(traffic.referencePerLook, referenceRate)
        var outcomes = Outcomes(sequences: sequences)
        for index in 0..<sequences {
            var rng = Xoshiro256StarStar(seed: seed &+ UInt64(index))
            var judge = makeJudge()
            var candidateBad = 0, referenceBad = 0, passed = false
            for look in 1...traffic.looks {
                candidateBad += candidate.draw(&rng)
                referenceBad += reference.draw(&rng)
                let calls = look * traffic.candidatePerLook
                let verdict = judge.look(
                    candidateBad: candidateBad, candidateTotal: calls,
                    referenceBad: referenceBad, referenceTotal: look * traffic.referencePerLook)
                if outcomes.note(verdict, calls: calls, passed: &passed, stopAtPass: stopAtPass) { break }
            }
        }
        return outcomes
    }

    // MARK: - Latencies

    /// Anything that looks at cumulative latency histograms and says a verdict.
    protocol HistogramJudge {
        mutating func look(candidate: [UInt64], reference: [UInt64]) -> SequentialVerdict
    }

    /// The fixed-sample tail test at every look (``TailTest``: the share above
    /// the reference's current quantile), a violation whenever significant.
    struct FixedSampleTailJudge: HistogramJudge {
        var alpha: Double
        var quantile: Double
        mutating func look(candidate: [UInt64], reference: [UInt64]) -> SequentialVerdict {
            let tail = TailTest(candidate: candidate.map { Double($0) }, reference: reference.map { Double($0) }, quantile: quantile)
            return tail.test.isSignificant(confidence: 1 - alpha) ? .violation : .continue
        }
    }

    /// Runs `sequences` steps with log-normal latencies (median `median`
    /// seconds, log-scale `sigma`); the candidate's are the reference's times
    /// `slowdown`. Every call is recorded with ``LatencyBuckets/index(nanoseconds:)``.
    static func latencies<Judge: HistogramJudge>(
        traffic: Traffic, slowdown: Double, median: Double = 0.05, sigma: Double = 0.5, sequences: Int, seed: UInt64,
        stopAtPass: Bool = false, judge makeJudge: () -> Judge
    ) -> Outcomes {
        var outcomes = Outcomes(sequences: sequences)
        let nanoseconds = median * 1e9
        for index in 0..<sequences {
            var rng = Xoshiro256StarStar(seed: seed &+ UInt64(index))
            var judge = makeJudge()
            var candidate = [UInt64](repeating: 0, count: LatencyBuckets.count), reference = candidate
            var passed = false
            for look in 1...traffic.looks {
                for _ in 0..<traffic.candidatePerLook {
                    let latency = slowdown * nanoseconds * exp(sigma * normal(&rng))
                    candidate[LatencyBuckets.index(nanoseconds: Int64(latency))] += 1
                }
                for _ in 0..<traffic.referencePerLook {
                    let latency = nanoseconds * exp(sigma * normal(&rng))
                    reference[LatencyBuckets.index(nanoseconds: Int64(latency))] += 1
                }
                let calls = look * traffic.candidatePerLook
                let verdict = judge.look(candidate: candidate, reference: reference)
                if outcomes.note(verdict, calls: calls, passed: &passed, stopAtPass: stopAtPass) { break }
            }
        }
        return outcomes
    }
}

extension SequentialProportionTest: SequentialSimulation.CountJudge {}

extension SequentialLatencyTest: SequentialSimulation.HistogramJudge {}
