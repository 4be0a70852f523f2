import Flows
import Foundation
import KernelSum
import Scenarios
import TestSupport
import XCTest

/// Sizes and memory: counts near Int.max, sizes valid as integers but impossible in memory, and
/// validation that allocates nothing proportional to the run (release builds are -Ounchecked:
/// before these checks such counts overflowed `count * d` and wrote past heap buffers, or
/// aborted on a failed allocation).
final class SizeTests: XCTestCase {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scenarios")
    /// A fixed limit, so that messages do not depend on the machine.
    let limit = MemoryLimit(bytes: 8e9, description: "this test allows 8.00 GB")

    /// Every count and size key, each with a bundled scenario that reads it and the overrides
    /// that make it read.
    static let sizeKeys: [(scenario: String, key: String, extra: [String])] = [
        ("quickstart", "population.count", []), ("mmd-gaussian-noise", "flow.target-samples", []),
        ("quickstart", "record.mmd-samples", []), ("game-circle-cos", "flow.max.count", []),
        ("two-layer-student-teacher", "flow.train-samples", []), ("two-layer-student-teacher", "flow.test-samples", []),
        ("two-layer-student-teacher", "flow.teacher-neurons", []), ("game-gan-mixture", "flow.payoff.data-samples", []),
        ("quickstart", "flow.median-sample", []), ("game-circle-cos", "record.nash-gap-grid", []),
        ("game-circle-cos", "record.nash-gap-starts", []), ("langevin-ou", "record.entropy-neighbours", []),
        ("mmd-riesz-mixture", "flow.directions", ["flow.summation=sliced"]),
    ]

    func path(_ scenario: String) -> String { SizeTests.scenarios.appendingPathComponent(scenario + ".toml").path }

    /// The validation error of a bundled scenario with overrides ("" and a failure if it validates).
    func refusal(
        _ scenario: String, _ overrides: [String], limit: MemoryLimit? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        do {
            _ = try ScenarioLoader.validate(
                path: path(scenario), overrides: overrides, threads: 2, memoryLimit: limit ?? self.limit)
            XCTFail("\(scenario) \(overrides) validated", file: file, line: line)
        } catch {
            return "\(error)"
        }
        return ""
    }

    /// A scenario file beyond 4 MiB is refused before it is read (the fuzzer's 200 MB formula
    /// was read, tokenised and aborted on a 7.5 GB allocation); a formula beyond 1 MiB is a
    /// located error even inside a scenario that fits.
    func testScenarioFilesAndFormulasHaveAMaximumSize() throws {
        let dir = TempDirectory()
        let quickstart = try String(contentsOfFile: path("quickstart"), encoding: .utf8)
        let padding = String(repeating: "# padding\n", count: ScenarioLoader.maximumFileSize / 10)
        let big = dir.write("big.toml", quickstart + padding)
        XCTAssertGreaterThan(
            try FileManager.default.attributesOfItem(atPath: big)[.size] as! Int, ScenarioLoader.maximumFileSize)
        XCTAssertEqual(
            loadError(big),
            "\(big): cannot read the scenario (\(quickstart.utf8.count + padding.utf8.count) bytes; at most 4194304)")
        let justFits = dir.write("fits.toml", quickstart + padding.dropLast(quickstart.utf8.count + 20))
        XCTAssertNoThrow(try ScenarioLoader.validate(path: justFits, threads: 1, memoryLimit: limit))
        XCTAssertTrue(
            loadError("big.toml", contents: Array((quickstart + padding).utf8)).contains("bytes; at most 4194304"))

        let scenario = try String(contentsOfFile: path("formula-double-well-langevin"), encoding: .utf8)
        let long = Array(repeating: "(x1^2 - 1)^2", count: 81_000).joined(separator: "+")
        XCTAssertGreaterThan(long.utf8.count, 1 << 20)
        let message = loadError(dir.write("long.toml", edit(scenario, "\"(x1^2 - 1)^2 + 0.5*x2^2\"", "\"\(long)\"")))
        XCTAssertTrue(
            message.contains("the formula is \(long.utf8.count) bytes long; at most 1048576 (1 MiB) are accepted"),
            String(message.prefix(300)))
        XCTAssertTrue(message.contains("potential"), String(message.prefix(300)))
        XCTAssertLessThan(message.count, 1000)
    }

    /// Every count and size key, at Int.max: refused at the key with the allowed range.
    func testCountsNearIntMaxAreRefusedAtTheirKey() {
        let max = "9223372036854775807"
        for (scenario, key, extra) in Self.sizeKeys {
            let e = refusal(scenario, extra + ["\(key)=\(max)"])
            XCTAssertTrue(
                e.contains("\(key): \(max) is out of range (an integer from 1 to 2147483647)")
                    || (key == "flow.directions"
                        && e.contains("\(key): \(max) is out of range (an integer from 1 to 1048576)"))
                    || (key.hasSuffix("median-sample")
                        && e.contains("\(key): \(max) is out of range (an integer from 2 to 2147483647)")),
                "\(scenario) \(key): \(e)")
        }
        for (scenario, key) in [
            ("langevin-ou", "population.dimension"), ("two-layer-student-teacher", "flow.input-dimension"),
            ("game-bilinear-quadratic", "flow.max.dimension"),
        ] {
            let e = refusal(scenario, ["\(key)=\(max)"])
            XCTAssertTrue(
                e.contains("\(key): \(max) is out of range (an integer from 1 to 65536)"), "\(scenario) \(key): \(e)")
        }
    }

    /// 2³¹ − 1 passes the integer check; the estimate refuses it at the key, with the estimate
    /// and the limit.
    func testSizesImpossibleInMemoryAreRefusedWithTheEstimate() {
        let big = "2147483647"
        // The keys of sizeKeys but nash-gap-starts, entropy-neighbours and directions (drawn a
        // few blocks at a time, capped at 2²⁰: no memory to refuse), median-sample with a
        // population of 10⁶.
        let cases = Self.sizeKeys.filter {
            !["record.nash-gap-starts", "record.entropy-neighbours", "flow.directions"].contains($0.key)
        }
        .map {
            ($0.scenario, $0.key, $0.key == "flow.median-sample" ? ["population.count=1000000"] : $0.extra)
        }
        for (scenario, key, extra) in cases {
            let e = refusal(scenario, extra + ["\(key)=\(big)"])
            // The test set is counted with the training set (one item, at train-samples).
            let at = key == "flow.test-samples" ? "flow.train-samples" : key
            XCTAssertTrue(
                e.contains("\(at): ") && e.contains("2147483647") && e.contains(" need") && e.contains("about")
                    && e.hasSuffix(
                        "; this test allows 8.00 GB (see \"Sizes and memory\" in docs/scenarios.md)"),
                "\(scenario) \(key): \(e)")
        }
        // A dimension that fits as an integer and whose d×d matrices do not.
        let e = refusal(
            "langevin-ou",
            [
                "population.dimension=65536", "population.init={ kind = \"uniform\", low = -1, high = 1 }",
                "record.metrics=[\"cov-error\"]", "record.reference-variance=1", "expect=[]",
            ])
        XCTAssertTrue(e.contains("record.metrics: cov-error's 65536×65536 covariances need about 34.4 GB"), e)
    }

    /// The example of docs/scenarios.md: 10⁹ particles in d = 2.
    func testPopulationMessage() {
        let e = refusal("quickstart", ["population.count=1000000000", "record.metrics=[]", "expect=[]"])
        XCTAssertTrue(
            e.contains(
                "--set population.count=1000000000: population.count: 1000000000 particles in d = 2 need about "), e)
        XCTAssertTrue(e.contains("(positions, weights, work buffers)"), e)
        XCTAssertTrue(e.hasSuffix("; this test allows 8.00 GB (see \"Sizes and memory\" in docs/scenarios.md)"), e)
        // The machine's own limit, in the same form.
        let machine = refusal("quickstart", ["population.count=2147483647"], limit: .current)
        XCTAssertTrue(
            machine.contains("population.count: 2147483647 particles in d = 2 need about ")
                && machine.contains(MemoryLimit.current.description), machine)
    }

    /// Validation draws nothing: 2·10⁹ particles (32 GB of positions alone), as many target
    /// samples, metric samples, max-player particles and training samples validate at once
    /// when nothing limits memory. (Before, validate drew them: 2.4 GB at 10⁸ particles, an
    /// abort at 10⁹.)
    func testValidationAllocatesNothingProportionalToTheRun() throws {
        let n = "2000000000"
        let cases: [(String, [String])] = [
            ("quickstart", ["population.count=\(n)", "record.mmd-samples=\(n)"]),
            ("mmd-gaussian-noise", ["flow.target-samples=\(n)"]),
            ("game-gan-mixture", ["flow.max.count=\(n)", "flow.payoff.data-samples=\(n)"]),
            ("two-layer-student-teacher", ["flow.train-samples=\(n)", "flow.test-samples=\(n)"]),
        ]
        let start = Date()
        for (scenario, overrides) in cases {
            let v = try ScenarioLoader.validate(
                path: path(scenario), overrides: overrides, threads: 2, memoryLimit: .unlimited)
            XCTAssertGreaterThan(v.memory.total, 3.2e10, "\(scenario): the estimate counts what load() would draw")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "nothing proportional to the run was drawn")
    }

    /// Every bundled scenario fits in well under 1 GB, and the estimate of a large quickstart is
    /// sane: at least its positions and weights, per particle within the flow's buffers, and
    /// about linear in N.
    func testEstimatesOfBundledScenariosAreSane() throws {
        for file in try FileManager.default.contentsOfDirectory(atPath: SizeTests.scenarios.path)
        where file.hasSuffix(".toml") {
            let v = try ScenarioLoader.validate(
                path: SizeTests.scenarios.appendingPathComponent(file).path, threads: 2, memoryLimit: limit)
            XCTAssertLessThan(v.memory.total - MemoryEstimate.baseline, 1e8, file)
            XCTAssertGreaterThan(v.memory.total, MemoryEstimate.baseline, file)
        }
        func estimate(_ n: Int) throws -> Double {
            try ScenarioLoader.validate(
                path: path("quickstart"), overrides: ["population.count=\(n)"], threads: 2,
                memoryLimit: .unlimited
            ).memory.total
        }
        let (e1, e2, e4) = (try estimate(1_000_000), try estimate(2_000_000), try estimate(4_000_000))
        let perParticle = (e4 - e2) / 2_000_000
        // d = 2: positions and weights are 24 bytes; SVGD keeps 14 doubles more per particle,
        // the direct sum's copy, ksd's scores and mmd's sources a few more, a trajectory record
        // about 200 bytes of text. Beyond 2 kB a particle would mean a runaway term.
        XCTAssertGreaterThan(perParticle, 24 + 8 * 14)
        XCTAssertLessThan(perParticle, 2000)
        XCTAssertEqual((e2 - e1) / 1_000_000, perParticle, accuracy: 0.25 * perParticle, "about linear in N")
        let v = try ScenarioLoader.validate(
            path: path("quickstart"), overrides: ["population.count=1000000"], threads: 2, memoryLimit: .unlimited)
        let population = v.memory.items.first { $0.key == "population.count" }
        XCTAssertEqual(population?.what, "1000000 particles in d = 2")
        XCTAssertGreaterThanOrEqual(population?.bytes ?? 0, 1_000_000 * 24)
    }

    /// k of the kNN entropy must be below N: a k-th neighbour that does not exist was read past
    /// the end of a buffer (garbage kl or entropy with exit 0, or SIGSEGV).
    func testEntropyNeighboursBelowTheParticleCount() {
        let e = refusal("langevin-ou", ["population.count=5"])
        XCTAssertTrue(
            e.contains(
                "record.entropy-neighbours: 5 (the default) needs more than 5 particles, and population.count is 5 (allowed: 1 to N − 1 = 4)"
            ), e)
        let given = refusal("langevin-ou", ["population.count=300", "record.entropy-neighbours=300"])
        XCTAssertTrue(
            given.contains(
                "--set record.entropy-neighbours=300: record.entropy-neighbours: 300 needs more than 300 particles"),
            given)
        XCTAssertNoThrow(
            try ScenarioLoader.validate(
                path: path("langevin-ou"), overrides: ["population.count=6"], threads: 2, memoryLimit: limit))
    }

    /// The machine's limit: MemTotal, cgroup files (v1 and v2), and the smallest of them.
    func testMemoryLimitSources() {
        XCTAssertEqual(MemoryLimit.memTotal("MemTotal:       24684084 kB\nMemFree:  1 kB\n"), 24_684_084 * 1024)
        XCTAssertNil(MemoryLimit.memTotal("MemFree:  1 kB\n"))
        XCTAssertEqual(MemoryLimit.cgroupLimit("4294967296\n"), 4_294_967_296)
        XCTAssertNil(MemoryLimit.cgroupLimit("max\n"))
        XCTAssertNil(MemoryLimit.cgroupLimit("9223372036854771712\n"), "cgroup v1's 'no limit'")
        let files = MemoryLimit.cgroupLimitFiles("4:memory:/process_api/abc\n0::/user.slice\n")
        XCTAssertTrue(files.contains("/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes"), "\(files)")
        XCTAssertTrue(files.contains("/sys/fs/cgroup/user.slice/memory.max"), "\(files)")
        XCTAssertTrue(files.contains("/sys/fs/cgroup/memory.max"))
        XCTAssertGreaterThan(MemoryLimit.current.bytes, 1e8)
        XCTAssertLessThan(MemoryLimit.current.bytes, .infinity)
        XCTAssertEqual(MemoryLimit.current, MemoryLimit.forProcess(of: 1))
        XCTAssertEqual(MemoryEstimate.format(48e9), "48.0 GB")
        XCTAssertEqual(MemoryEstimate.format(612e6), "612 MB")
        XCTAssertEqual(MemoryEstimate.format(2.5e18), "2.50 EB")
    }

    /// The processes of one job on a machine (MPI ranks, a sweep's runs) share its memory and
    /// its cgroup's limit, each gets its part; the address-space limit is each one's own.
    func testProcessesOnAMachineShareItsMemory() {
        let machine = [
            MemoryLimit(bytes: 32e9, description: "this machine has 32.0 GB"),
            MemoryLimit(bytes: 24e9, description: "the cgroup memory limit (x) is 24.0 GB"),
        ]
        let own = [MemoryLimit(bytes: 10e9, description: "the address-space limit (RLIMIT_AS, ulimit -v) is 10.0 GB")]
        XCTAssertEqual(MemoryLimit.forProcess(of: 1, machine: machine, process: own), own[0])
        XCTAssertEqual(MemoryLimit.forProcess(of: 2, machine: machine, process: own), own[0])
        let four = MemoryLimit.forProcess(of: 4, machine: machine, process: own)
        XCTAssertEqual(four.bytes, 6e9)
        XCTAssertEqual(
            four.description,
            "the cgroup memory limit (x) is 24.0 GB, shared by the 4 processes of this job on it (6.00 GB each)")
        XCTAssertEqual(MemoryLimit.forProcess(of: 3, machine: machine, process: []).bytes, 8e9)
        XCTAssertEqual(MemoryLimit.forProcess(of: 0, machine: machine, process: []).bytes, 24e9, "at least one")
        XCTAssertEqual(MemoryLimit.forProcess(of: 2, machine: [], process: []), .unlimited)
    }

    /// On K ranks a mesh that shares its grid (d = 2, 3) is estimated at about 2/K of it per
    /// rank (its slab, and its columns of the spectrum on every row), with the gathered results
    /// beside its share's; a 1-D mesh, which every rank computes whole, at all of it.
    func testADistributedMeshHoldsItsShareOfTheGrid() {
        let kernel = GaussianKernel(sigma: 0.1)
        let (n, c, g) = (100_000, 3, 1)
        func estimate(_ engine: any KernelSumEngine, dimension d: Int) -> (transient: Double, persistent: Double) {
            MemoryEstimate.kernelSum(
                engine, kernel: kernel, dimension: d, sources: n, targets: n, channels: c, gradients: g, threads: 1)
        }
        for d in [1, 2, 3] {
            let alone = estimate(MeshSum(tolerance: 1e-6, threads: 1), dimension: d)
            XCTAssertGreaterThan(alone.persistent, 0)
            for k in [2, 4] {
                let peer = PeerCommunicator(rank: 0, of: k)
                for inner in [
                    MeshSum(tolerance: 1e-6, threads: 1, communicator: peer),
                    AutoSum(tolerance: 1e-6, threads: 1, communicator: peer),
                ] as [any KernelSumEngine] {
                    let shared = estimate(DistributedSum(inner, communicator: peer), dimension: d)
                    let outputs = 8 * Double(n) * Double(c + g * d)
                    let at = "d = \(d), \(inner.name) on \(k) ranks"
                    if d == 1 {
                        XCTAssertEqual(shared.persistent, alone.persistent, at)
                        XCTAssertEqual(shared.transient, alone.transient, at)
                    } else {
                        XCTAssertEqual(shared.persistent, alone.persistent * min(1, 2 / Double(k)), at)
                        XCTAssertEqual(
                            shared.transient,
                            alone.transient + outputs * (1 + 1 / Double(k)) + 8 * Double(n) / Double(k) * Double(d),
                            accuracy: 1e-6 * alone.transient, at)
                    }
                }
            }
        }
    }
}
