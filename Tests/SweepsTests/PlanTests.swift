import Flows
import Foundation
import Recording
import Sweeps
import XCTest

/// `--vary` and `--seeds` syntax, the variants' order and directory names, the runs' order.
final class PlanTests: XCTestCase {
    func usageError(
        _ body: () throws -> Void, contains text: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            try body()
            XCTFail("no error; expected one containing '\(text)'", file: file, line: line)
        } catch let e as SweepError {
            XCTAssertEqual(e.kind, .usage, e.description, file: file, line: line)
            XCTAssertTrue(
                e.description.contains(text), "'\(e.description)' does not contain '\(text)'", file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    func testVaryValuesSplitAtTopLevelCommas() throws {
        XCTAssertEqual(try Vary.parse("flow.step-size=0.1,0.05"), Vary(key: "flow.step-size", values: ["0.1", "0.05"]))
        XCTAssertEqual(
            try Vary.parse(" population.count = 100 , 200 "), Vary(key: "population.count", values: ["100", "200"]))
        XCTAssertEqual(
            try Vary.parse(#"record.metrics=["ksd"],["ksd","mmd"]"#).values, [#"["ksd"]"#, #"["ksd","mmd"]"#])
        XCTAssertEqual(
            try Vary.parse(#"flow.kernel="matern:nu=1.5,sigma=2",imq"#).values, [#""matern:nu=1.5,sigma=2""#, "imq"])
        XCTAssertEqual(
            try Vary.parse("init={ kind = \"gaussian\", std = 1 },x").values, ["{ kind = \"gaussian\", std = 1 }", "x"])
        XCTAssertEqual(
            try Vary.parse("flow.kernel=gaussian:sigma=1").values, ["gaussian:sigma=1"],
            "only the first '=' ends the key")
        XCTAssertEqual(try Vary.parse("expect[1].at-most=0.1").key, "expect[1].at-most")
    }

    func testBadVarySyntaxIsAUsageError() {
        usageError({ _ = try Vary.parse("flow.step-size") }, contains: "expected KEY=V1,V2")
        usageError({ _ = try Vary.parse("=0.1") }, contains: "the key before '=' is empty")
        usageError({ _ = try Vary.parse("steps=") }, contains: "no values")
        usageError({ _ = try Vary.parse("steps=  ") }, contains: "no values")
        usageError({ _ = try Vary.parse("steps=10,,20") }, contains: "value 2 is empty")
        usageError({ _ = try Vary.parse("steps=10,") }, contains: "value 2 is empty")
        usageError({ _ = try Vary.parse("steps=10,20,10") }, contains: "'10' is given twice")
        usageError({ _ = try Vary.parse("seed=1,2") }, contains: "--seeds")
        usageError({ _ = try Vary.parse("a b=1") }, contains: "is not a key")
        let steps = Vary(key: "steps", values: ["10"])
        usageError({ try Vary.checkTogether([steps, steps], sets: []) }, contains: "varied twice")
        usageError({ try Vary.checkTogether([steps], sets: ["steps=3"]) }, contains: "also varied")
        usageError({ try Vary.checkTogether([], sets: ["seed=3"]) }, contains: "--seeds")
    }

    func testSeeds() {
        XCTAssertEqual(try Seeds.parse("1..4"), [1, 2, 3, 4])
        XCTAssertEqual(try Seeds.parse("7..7"), [7])
        XCTAssertEqual(try Seeds.parse("1,5, 9"), [1, 5, 9])
        XCTAssertEqual(try Seeds.parse("0"), [0])
        usageError({ _ = try Seeds.parse("4..1") }, contains: "empty")
        usageError({ _ = try Seeds.parse("1,1") }, contains: "twice")
        usageError({ _ = try Seeds.parse("-1") }, contains: "not a seed")
        usageError({ _ = try Seeds.parse("a..3") }, contains: "not a seed")
        usageError({ _ = try Seeds.parse("1,,2") }, contains: "empty seed")
        usageError({ _ = try Seeds.parse("0..100000") }, contains: "at most 100000")
    }

    func testVariantsAreTheCartesianProductInCommandLineOrder() throws {
        let plan = try SweepPlan(
            scenario: "s.toml", baseOverrides: ["steps=5"],
            varies: [Vary(key: "a", values: ["1", "2"]), Vary(key: "b", values: ["x", "y", "z"])],
            seeds: [3, 1], directory: "out")
        XCTAssertEqual(plan.variants.map(\.label), ["a=1,b=x", "a=1,b=y", "a=1,b=z", "a=2,b=x", "a=2,b=y", "a=2,b=z"])
        XCTAssertEqual(plan.runs.count, 12)
        XCTAssertEqual(plan.runs.map(\.index), Array(0..<12))
        XCTAssertEqual(plan.runs.prefix(4).map { [$0.variant, $0.seed] }, [[0, 3], [0, 1], [1, 3], [1, 1]])
        XCTAssertEqual(plan.runs[3].directory, "out/a=1,b=y/seed-1")
        XCTAssertEqual(plan.overrides(plan.runs[3]), ["steps=5", "a=1", "b=y"])
        // No --vary: one variant, "base".
        let single = try SweepPlan(scenario: "s.toml", baseOverrides: [], varies: [], seeds: [1, 2], directory: "d")
        XCTAssertEqual(single.variants.map(\.label), ["base"])
        XCTAssertEqual(single.runs.map(\.directory), ["d/base/seed-1", "d/base/seed-2"])
        XCTAssertEqual(SweepPlan.defaultDirectory(scenario: "scenarios/quickstart.toml"), "runs/quickstart-sweep")
    }

    func testDirectoryNames() {
        // Already safe: the label itself.
        XCTAssertEqual(
            Variant.directoryName(for: "flow.step-size=0.1,population.count=500"),
            "flow.step-size=0.1,population.count=500")
        XCTAssertEqual(Variant.directoryName(for: "x=-1e+3"), "x=-1e+3")
        // Replaced characters, then the label's hash.
        let hash = { (s: String) in String(sha256Hex(Array(s.utf8)).prefix(8)) }
        XCTAssertEqual(
            Variant.directoryName(for: "flow.kernel=gaussian:sigma=2"),
            "flow.kernel=gaussian_sigma=2_" + hash("flow.kernel=gaussian:sigma=2"))
        XCTAssertEqual(Variant.directoryName(for: "a=x/y"), "a=x_y_" + hash("a=x/y"))
        XCTAssertEqual(
            Variant.directoryName(for: #"record.metrics=["ksd"]"#),
            "record.metrics=__ksd___" + hash(#"record.metrics=["ksd"]"#))
        XCTAssertEqual(Variant.directoryName(for: "-a=1"), "_a=1_" + hash("-a=1"))
        XCTAssertEqual(Variant.directoryName(for: ".a=1"), "_a=1_" + hash(".a=1"))
        XCTAssertEqual(Variant.directoryName(for: "t=é"), "t=__" + hash("t=é").prefix(8), "one _ per character")
        // Labels that differ only in replaced characters stay apart.
        XCTAssertNotEqual(Variant.directoryName(for: "a=x:y"), Variant.directoryName(for: "a=x;y"))
        // Long labels are cut, then hashed.
        let long = "k=" + String(repeating: "9", count: 300)
        XCTAssertEqual(
            Variant.directoryName(for: long), String(long.prefix(Variant.maximumNameLength)) + "_" + hash(long))
        for label in ["a=x/y", long, "t=é", "flow.kernel=gaussian:sigma=2"] {
            let name = Variant.directoryName(for: label)
            XCTAssertLessThanOrEqual(name.utf8.count, 255)
            XCTAssertTrue(name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-+=,".contains($0)) }, name)
        }
    }

    func testTwoVariantsWithOneDirectoryNameAreRefused() {
        // "a=x/" becomes "a=x_" + "_" + hash; a second value spelling that name exactly collides.
        let colliding = String(Variant.directoryName(for: "a=x/").dropFirst(2))
        usageError(
            {
                _ = try SweepPlan(
                    scenario: "s.toml", baseOverrides: [], varies: [Vary(key: "a", values: ["x/", colliding])],
                    seeds: [1], directory: "d")
            }, contains: "get the same directory name")
    }

    func testTooManyRunsIsAUsageError() {
        let big = Vary(key: "a", values: (0..<1000).map(String.init))
        usageError(
            {
                _ = try SweepPlan(
                    scenario: "s.toml", baseOverrides: [], varies: [big, big.renamed("b")],
                    seeds: [1, 2], directory: "d")
            }, contains: "more than 1000000 runs")
    }

    func testRankSharesCoverEveryRunOnce() throws {
        let plan = try SweepPlan(
            scenario: "s.toml", baseOverrides: [], varies: [Vary(key: "a", values: ["1", "2", "3"])],
            seeds: [1, 2, 3, 4, 5], directory: "d")
        for size in 1...4 {
            let shares = (0..<size).map { r in SweepShare.rank(r, of: size, barrier: {}) }
            for run in plan.runs { XCTAssertEqual(shares.filter { $0.includes(run.index) }.count, 1) }
            XCTAssertEqual(shares.filter(\.writesTables).count, 1)
        }
    }
}

extension Vary {
    func renamed(_ key: String) -> Vary { Vary(key: key, values: values) }
}

/// `--jobs J`: J runs at once must fit in memory together, not only one by one.
final class SweepMemoryTests: XCTestCase {
    /// Four runs of the quickstart at 20000 particles, and a limit of room for two and a half.
    func planAndLimit() throws -> (plan: SweepPlan, one: Double, limit: MemoryLimit) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let scenario = root.appendingPathComponent("scenarios/quickstart.toml").path
        let plan = try SweepPlan(
            scenario: scenario, baseOverrides: ["population.count=20000"],
            varies: [Vary(key: "step-size", values: ["0.1", "0.05"])], seeds: [1, 2], directory: "d")
        let one = try SweepValidation.validate(plan, jobs: 1, memoryLimit: .unlimited)[0].memory
        return (plan, one, MemoryLimit(bytes: 2.5 * one, description: "the test allows \(2.5 * one) bytes"))
    }

    func testJobsAtOnceMustFitTogether() throws {
        let (plan, one, limit) = try planAndLimit()
        XCTAssertGreaterThan(one, 0)
        // Room for two runs and a half: two at once pass, three do not.
        XCTAssertEqual(try SweepValidation.validate(plan, jobs: 2, memoryLimit: limit).count, 4)
        do {
            _ = try SweepValidation.validate(plan, jobs: 3, memoryLimit: limit)
            XCTFail("three runs at once fit in room for two and a half")
        } catch {
            XCTAssertEqual(error.kind, .badInput)
            XCTAssertTrue(error.description.contains("3 runs at once (--jobs)"), error.description)
            XCTAssertTrue(error.description.contains("lower --jobs"), error.description)
        }
    }

    /// Dealt to K ranks (run i to rank i mod K), a rank has at most ⌈runs/K⌉ runs: no more run at
    /// once on it whatever --jobs says.
    func testARankRunsAtMostItsShareAtOnce() throws {
        let (plan, _, limit) = try planAndLimit()
        // 4 runs on 2 ranks: 2 each, so --jobs 3 means 2 at once; on 1 rank, 3 at once.
        XCTAssertEqual(try SweepValidation.validate(plan, jobs: 3, ranks: 2, memoryLimit: limit).count, 4)
        XCTAssertThrowsError(try SweepValidation.validate(plan, jobs: 3, ranks: 1, memoryLimit: limit))
        // 4 runs on 3 ranks: at most 2 on one.
        XCTAssertEqual(try SweepValidation.validate(plan, jobs: 4, ranks: 3, memoryLimit: limit).count, 4)
        XCTAssertThrowsError(try SweepValidation.validate(plan, jobs: 4, ranks: 1, memoryLimit: limit))
    }
}
