import Testing

@testable import ScriptHost

/// string.find, match, gmatch and gsub against the stock library: seeded
/// random subjects and patterns (classes, sets, anchors, the four
/// repetitions, captures, position captures, %b, %f, back references and
/// malformed patterns), then cases chosen by hand.
@Suite struct PatternDifferentialTests {
    /// Random subjects and patterns over a small alphabet, so that patterns match often.
    struct PatternGenerator {
        var random: SeededGenerator

        init(salt: UInt64) { random = SeededGenerator(seed: Differential.seed ^ salt) }

        mutating func pick<T>(_ choices: [T]) -> T { choices[Int.random(in: 0..<choices.count, using: &random)] }
        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

        mutating func subject() -> [UInt8] {
            let alphabet = Array("aaabbx (())[]..-%_1 9A\tz".utf8) + [0, 0xFF]
            let length = Int.random(in: 0...18, using: &random)
            return (0..<length).map { _ in pick(alphabet) }
        }

        /// One single-byte class: a byte, '.', an escape or a set.
        mutating func singleClass() -> String {
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3: return pick(["a", "b", "x", " ", "1", "A", "z", "_", "\t"])
            case 4: return "."
            case 5...6:
                return pick([
                    "%a", "%d", "%s", "%w", "%p", "%x", "%l", "%u", "%c", "%g", "%A", "%D", "%S", "%W", "%.", "%%",
                    "%(", "%)", "%[", "%-", "%z", "%Q",
                ])
            default:
                return pick([
                    "[ab]", "[^a]", "[a-c]", "[%a_]", "[]]", "[^]a]", "[%d%s]", "[a-]", "[-a]", "[%]]", "[^%w]", "[.]",
                    "[b-a]", "[%a-z]", "[\u{0}]",
                ])
            }
        }

        mutating func pattern() -> String {
            var text = chance(15) ? "^" : ""
            var repetitions = 0
            var open = 0
            var closed = 0
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                switch Int.random(in: 0..<20, using: &random) {
                case 0...10:
                    text += singleClass()
                    if repetitions < 3 && chance(35) {
                        text += pick(["?", "*", "+", "-"])
                        repetitions += 1
                    }
                case 11...12:
                    if open < 4 { text += "("; open += 1 } else { text += "a" }
                case 13:
                    if open > 0 { text += ")"; open -= 1; closed += 1 } else { text += "()" }
                case 14: text += pick(["%b()", "%bab", "%b[]", "%b''", "%b(("])
                case 15: text += pick(["%f[%w]", "%f[%W]", "%f[a]", "%f[^a]", "%f[%z]", "%f[\u{0}]"])
                case 16: text += closed > 0 && chance(70) ? "%1" : pick(["%1", "%2"])
                case 17: text += chance(50) ? "$" : "^"
                case 18:
                    // A mistake, which stock Lua reports only when matching reaches it.
                    text += pick(["%", "[a", "%f", "%fa", "%b", "%ba", ")", "%0", "%9", "[", "[^"])
                default:
                    if repetitions < 3 && chance(40) {
                        text += pick([".-", "x*"])
                        repetitions += 1
                    } else {
                        text += pick(["ab", "()", "(a)"])
                    }
                }
            }
            while open > 0 && chance(70) {
                text += ")"
                open -= 1
            }
            if chance(15) { text += "$" }
            return text
        }

        mutating func initArgument() -> Argument {
            chance(60) ? .nil : .integer(Int64.random(in: -22...22, using: &random))
        }
    }

    @Test func findMatchesStock() throws {
        var run = try DifferentialRun()
        var generator = PatternGenerator(salt: 1)
        for _ in 0..<Differential.cases(3000) {
            let plain: Argument = generator.chance(10) ? .boolean(true) : .nil
            run.check("find", [.bytes(generator.subject()), .text(generator.pattern()), generator.initArgument(), plain])
        }
        run.finish()
    }

    @Test func matchMatchesStock() throws {
        var run = try DifferentialRun()
        var generator = PatternGenerator(salt: 2)
        for _ in 0..<Differential.cases(3000) {
            run.check("match", [.bytes(generator.subject()), .text(generator.pattern()), generator.initArgument()])
        }
        run.finish()
    }

    @Test func gmatchMatchesStock() throws {
        var run = try DifferentialRun()
        var generator = PatternGenerator(salt: 3)
        for _ in 0..<Differential.cases(3000) {
            run.check("gmatch", [.bytes(generator.subject()), .text(generator.pattern()), generator.initArgument()])
        }
        run.finish()
    }

    @Test func gsubMatchesStock() throws {
        var run = try DifferentialRun()
        var generator = PatternGenerator(salt: 4)
        let replacements: [Argument] = [
            .text("x"), .text("%0"), .text("%1"), .text("%2"), .text("<%1|%0>"), .text("%%"), .text("%"), .text("%x"),
            .text(""), .text("%1%1"), .integer(7), .number(2.5), .boolean(true), .nil,
        ]
        for _ in 0..<Differential.cases(3000) {
            let limit: Argument = generator.chance(20) ? .integer(Int64.random(in: -1...3, using: &generator.random)) : .nil
            let subject = Argument.bytes(generator.subject())
            let pattern = Argument.text(generator.pattern())
            switch Int.random(in: 0..<4, using: &generator.random) {
            case 0: run.check("gsub_table", [subject, pattern, limit])
            case 1: run.check("gsub_function", [subject, pattern, limit])
            default: run.check("gsub", [subject, pattern, generator.pick(replacements), limit])
            }
        }
        run.finish()
    }

    /// Cases the issue names, and the edges of the stock behaviour.
    static let chosen: [(String, [Argument])] = {
        var cases: [(String, [Argument])] = []
        func add(_ operation: String, _ arguments: Argument...) { cases.append((operation, arguments)) }
        let a300 = Argument.text(String(repeating: "a", count: 300))
        add("find", .text(String(repeating: "a", count: 40)), .text("a-a-a-a-b"))
        add("find", .text(String(repeating: "a", count: 40)), .text("a-a-a-a-a"))
        add("match", .text("f(a(b)c) (d)"), .text("%b()"))
        add("gsub", .text("f(a(b)c) (d) (e"), .text("%b()"), .text("[]"))
        add("gmatch", .text("THE (quick) fox"), .text("%f[%w]%w+"))
        add("gsub", .text("THE (quick) fox"), .text("%f[%w]%w+"), .text("<%0>"))
        add("gsub", .text("hello world"), .text("%a*"), .text("-"))
        add("gsub", .text("abc"), .text(""), .text("-"))
        add("gsub", .text("abc"), .text("b*"), .text("-"))
        add("gmatch", .text("abc"), .text(""))
        add("gmatch", .text("abc"), .text("b*"))
        add("gmatch", .text("a^b^c"), .text("^."))  // 5.4.4: '^' is a plain byte in gmatch
        add("gmatch", .text("abab"), .text("^ab"))
        add("gsub", .text("abab"), .text("^ab"), .text("X"))
        add("gmatch", .text("abab"), .text("ab"), .integer(2))
        add("gmatch", .text("abab"), .text("ab"), .integer(-2))
        add("gmatch", .text("abab"), .text("ab"), .integer(10))
        add("find", .text(""), .text(String(repeating: "()", count: 32)))
        add("find", .text(""), .text(String(repeating: "()", count: 33)))
        add("match", .text(String(repeating: "a", count: 32)), .text(String(repeating: "(a)", count: 32)))
        add("match", .text(String(repeating: "a", count: 33)), .text(String(repeating: "(a)", count: 33)))
        add("find", a300, .text(String(repeating: "a?", count: 199)))
        add("find", a300, .text(String(repeating: "a?", count: 200)))
        add("find", a300, .text(String(repeating: "a-", count: 200) + "$"))
        add("find", .text(""), .text(String(repeating: "a*", count: 5000)))
        add("find", a300, .text(String(repeating: "a?", count: 169) + String(repeating: "()", count: 30)))
        add("find", a300, .text(String(repeating: "a?", count: 170) + String(repeating: "()", count: 30)))
        add(
            "find", .text(String(repeating: "a", count: 184) + "xxxxxxxxxxxxxxx"),
            .text(String(repeating: "a?", count: 184) + String(repeating: "(x", count: 15)))
        for malformed in [
            "%", "a%", "[a", "[]", "[^]", "%f", "%fa", "%f[a", "%b", "%ba", ")", "a)", "%1", "(a%1)", "(a)%2", "%0", "(", "(()",
        ] {
            add("find", .text("a"), .text(malformed))
            add("find", .text("b"), .text(malformed))
            add("gsub", .text("ab"), .text(malformed), .text("x"))
        }
        add("find", .text("a.b"), .text("."), .integer(1), .boolean(true))
        add("find", .text("abc"), .text(""), .integer(4))
        add("find", .text("abc"), .text(""), .integer(5))
        add("find", .text("abc"), .text("c"), .integer(-1))
        add("find", .text("abc"), .text("b"), .number(1.5))
        add("find", .integer(12345), .integer(3))
        add("find")
        add("gsub", .text("abc"), .text("b"), .boolean(true))
        add("gsub", .text("abc"), .text("b"), .text("x"), .number(1.5))
        add("gsub", .text("abc"), .text("()"), .text("%1"))
        add("gsub", .text("hello"), .text("l+"), .text("%%%0%%"))
        add("gsub_table", .text("a b ab x"), .text("%w+"))
        add("gsub_function", .text("a b t"), .text("%w"))
        add("find", .text("\u{0}a\u{0}"), .text("%f[a]"))
        add("find", .text("\u{0}"), .text("%f[%z]"))
        add("find", .text("a\u{0}"), .text("%f[\u{0}]"))
        add("match", .text("  key = value  "), .text("^%s*(%w+)%s*=%s*(%w+)%s*$"))
        add("match", .text("2024-01-15"), .text("(%d+)-(%d+)-(%d+)"))
        add("gsub", .text("x = 1, y = 2"), .text("(%w+) = (%w+)"), .text("%2 = %1"))
        return cases
    }()

    @Test func chosenCasesMatchStock() throws {
        var run = try DifferentialRun()
        for (operation, arguments) in Self.chosen { run.check(operation, arguments) }
        run.finish()
    }
}
