import Testing

/// Every input that ever crashed or hung the sentinel, and the edge cases
/// around them, replayed on every test run: each is refused promptly with an
/// error that names its file and line.
@Suite struct CorpusReplayTests {
    /// The message each crasher of the hardening issue now gets (a fragment).
    static let expected: [String: String] = [
        "Tests/Corpus/script/interval-1e10.lua": "interval-1e10.lua:3: field 'interval' is 1e10 s, above the maximum of 24h",
        "Tests/Corpus/script/interval-9223372036.lua": "interval-9223372036.lua:3: field 'interval' is 9.22e9 s, above the maximum of 24h",
        "Tests/Corpus/script/interval-2562048h.lua": "interval-2562048h.lua:3: field 'interval' is 9.22e9 s, above the maximum of 24h",
        "Tests/Corpus/script/interval-1e300.lua": "interval-1e300.lua:3: field 'interval' is 1e300 s, above the maximum of 24h",
        "Tests/Corpus/script/deep-parentheses.lua": "deep-parentheses.lua:1: C stack overflow (the code nests too deeply)",
        "Tests/Corpus/script/deep-table.lua": "deep-table.lua:1: C stack overflow (the code nests too deeply)",
        "Tests/Corpus/script/not-utf8.lua": "not-utf8.lua:3: the file is not valid UTF-8 (byte 0xff at column 36)",
        "Tests/Corpus/config/huge-min-interval.yaml":
            "huge-min-interval.yaml:3: guards[1].min_interval: 3.6e14 s is out of range (expected from 0s to 365 days)",
        "Tests/Corpus/config/memory-1e30gib.yaml": "memory-1e30gib.yaml:2: limits.memory: 1e30GiB is out of range",
        "Tests/Corpus/config/memory-inf.yaml": "memory-inf.yaml:2: limits.memory: inf is not a finite number",
        "Tests/Corpus/config/deadline-huge.yaml":
            "deadline-huge.yaml:2: limits.deadline: 1.79e308 s is out of range (expected from 1ms to 1m)",
        "Tests/Corpus/config/guard-params-null.yaml": "guard-params-null.yaml:2: guards[1].params: a guard needs a knob name pattern",
        "Tests/Corpus/config/grant-commands-null.yaml":
            "grant-commands-null.yaml:3: roles.canary[1].commands: expected a list of patterns of command names, got nothing",
        "Tests/Corpus/config/billion-laughs.yaml": "billion-laughs.yaml:1: the document expands to more than 100000 nodes",
        "Tests/Corpus/config/alias-as-key.yaml": "alias-as-key.yaml:41: a mapping key must be a plain string in a document with aliases",
        "Tests/Corpus/config/deep-nesting.yaml": "deep-nesting.yaml:1: the document nests deeper than 200 levels",
        "Tests/Corpus/config/deep-block-nesting.yaml": "deep-block-nesting.yaml:2: the document nests deeper than 200 levels",
        "Tests/Corpus/config/duplicate-key.yaml": "duplicate-key.yaml:1: not valid YAML: duplicate key \"guards\"",
        "Tests/Corpus/config/control-character.yaml": "control-character.yaml:3: not valid YAML: control characters are not allowed",
        "Tests/Corpus/scenario/billion-laughs.yaml": "billion-laughs.yaml:1: the document expands to more than 100000 nodes",
        "Tests/Corpus/scenario/doubling-aliases.yaml":
            "doubling-aliases.yaml:2: the document has 118 alias references (*name), over the limit of 100",
        "Tests/Corpus/scenario/exponential-under-alias-limit.yaml":
            "exponential-under-alias-limit.yaml:6: the document expands to more than 100000 nodes",
        "Tests/Corpus/scenario/timeout-1.79e308.yaml":
            "timeout-1.79e308.yaml:5: pipelines.checkout.policies[1].timeout.duration: 1.79e308 s is out of range",
        "Tests/Corpus/scenario/sample-huge.yaml": "sample-huge.yaml:2: sample: 9.22e9 s is out of range",
        "Tests/Corpus/scenario/latency-p99-huge.yaml":
            "latency-p99-huge.yaml:6: pipelines.checkout.backend.latency.p99: 1.08e9 s is out of range (expected from 0s to 1h)",
        "Tests/Corpus/scenario/control-min-interval-huge.yaml":
            "control-min-interval-huge.yaml:5: control.guards[1].min_interval: 3.6e14 s is out of range",
        "Tests/Corpus/scenario/breaker-window-huge.yaml":
            "breaker-window-huge.yaml:5: pipelines.checkout.policies[1].breaker.window: 3.6e14 s is out of range (expected from 1s to 1h)",
        "Tests/Corpus/scenario/keys-huge.yaml": "keys-huge.yaml:5: pipelines.checkout.traffic.keys: 1e12 is out of range",
        "Tests/Corpus/scenario/budget-reserve-huge.yaml":
            "budget-reserve-huge.yaml:5: pipelines.checkout.policies[1].retry.budget_reserve: 1e300 is out of range",
    ]

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusFileIsRefusedWithItsLineOrAccepted(_ target: FuzzTarget) async throws {
        let runner = try FuzzRunner()
        let files = FuzzFiles.list(target.corpusFolder)
        #expect(!files.isEmpty || target == .json, "no corpus for \(target)")
        for name in files {
            let path = target.corpusFolder + "/" + name
            let bytes = try #require(FuzzFiles.read(path))
            let refusal = await runner.run(target, bytes, path: path) { Issue.record("\($0)") }
            if let expected = Self.expected[path] {
                #expect(refusal?.contains(expected) == true, "\(path): \(refusal ?? "accepted")")
            }
        }
    }

    @Test func theExtremeLatencyTailRunsWithoutTrapping() async throws {
        // p50 1ns and p99 1h: draws of years are capped at a day.
        let runner = try FuzzRunner()
        let path = "Tests/Corpus/scenario/latency-tail-extreme.yaml"
        let refusal = await runner.run(.scenario, try #require(FuzzFiles.read(path)), path: path) { Issue.record("\($0)") }
        #expect(refusal == nil)
    }

    @Test func everyExpectedMessageHasItsFile() {
        for path in Self.expected.keys { #expect(FuzzFiles.read(path) != nil, "missing corpus file \(path)") }
    }
}
