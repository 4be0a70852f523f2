import Foundation
import XCTest

/// Sizes, memory and extreme parameters from the command line: refused with exit 3 and a
/// located message, never a crash (release builds are -Ounchecked) or a silent wrong result.
final class SizeCLITests: ScratchTestCase {
    /// 10⁹ particles: `validate` and `run` refuse with the estimate and the machine's memory,
    /// and `run` writes nothing. (validate drew 10⁸ particles, 2.4 GB, and aborted at 10⁹.)
    func testImpossiblePopulationIsRefusedByValidateAndRun() throws {
        let big = try writeScenario(
            "big.toml",
            try read(CLITests.root.appendingPathComponent("scenarios/quickstart.toml"))
                .replacingOccurrences(of: "count = 300", with: "count = 1000000000"))
        let v = try runWGF(["validate", big.path])
        XCTAssertEqual(v.code, 3, v.stderr)
        XCTAssertTrue(
            v.stderr.contains("big.toml:16: population.count: 1000000000 particles in d = 2 need about "), v.stderr)
        XCTAssertTrue(
            v.stderr.contains("(positions, weights, work buffers") && v.stderr.contains("this machine has")
                || v.stderr.contains("limit"), v.stderr)
        let out = scratch.appendingPathComponent("run")
        let r = try runWGF(["run", big.path, "--out", out.path])
        XCTAssertEqual(r.code, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("population.count: 1000000000 particles in d = 2 need about "), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is written")
        // A bundled scenario validates with its estimate.
        let ok = try runWGF(["validate", "scenarios/quickstart.toml"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        XCTAssertTrue(
            ok.stdout.hasPrefix("ok  scenarios/quickstart.toml (about ") && ok.stdout.contains(" of memory; "),
            ok.stdout)
    }

    /// Under an address-space limit of 1 GiB, 10⁸ particles (1.6 GB of positions) are refused
    /// with the limit in the message; before, validation drew them and died on the failed
    /// allocation (exit 134).
    func testAddressSpaceLimitIsTheLimit() throws {
        let r = try runWGF(
            ["validate", "scenarios/langevin-ou.toml", "scenarios/quickstart.toml"], ulimit: "-v \(1 << 20)")
        XCTAssertEqual(r.code, 0, "the bundled scenarios fit: \(r.stderr)")
        let big = try writeScenario(
            "big.toml",
            try read(CLITests.root.appendingPathComponent("scenarios/langevin-ou.toml"))
                .replacingOccurrences(of: "count = 5000", with: "count = 100000000"))
        let v = try runWGF(["validate", big.path], ulimit: "-v \(1 << 20)")
        XCTAssertEqual(v.code, 3, v.stderr)
        XCTAssertTrue(
            v.stderr.contains("population.count: 100000000 particles in d = 2 need about ")
                && v.stderr.contains("the address-space limit (RLIMIT_AS, ulimit -v) is 1.07 GB"), v.stderr)
    }

    /// Counts at Int.max from the command line: a located error with the allowed range.
    func testCountsAtIntMaxFromTheCommandLine() throws {
        for (scenario, key) in [
            ("game-circle-cos", "record.nash-gap-grid"), ("mmd-gaussian-noise", "flow.target-samples"),
            ("langevin-ou", "record.entropy-neighbours"),
        ] {
            let r = try runWGF([
                "run", "scenarios/\(scenario).toml", "--out", scratch.appendingPathComponent(scenario).path,
                "--set", "\(key)=9223372036854775807",
            ])
            XCTAssertEqual(r.code, 3, r.stderr)
            XCTAssertTrue(
                r.stderr.contains(
                    "--set \(key)=9223372036854775807: \(key): 9223372036854775807 is out of range (an integer from 1 to 2147483647)"
                ), r.stderr)
        }
        // The kNN entropy's k must be below N (it read past a buffer: garbage kl, or SIGSEGV).
        let knn = try runWGF([
            "run", "scenarios/langevin-ou.toml", "--out", scratch.appendingPathComponent("knn").path,
            "--set", "population.count=4", "--set", "expect=[]",
        ])
        XCTAssertEqual(knn.code, 3, knn.stderr)
        XCTAssertTrue(
            knn.stderr.contains(
                "record.entropy-neighbours: 5 (the default) needs more than 5 particles, and population.count is 4"),
            knn.stderr)
    }

    /// `wgf sum` at extreme parameters: refused with the range and why, or right (closed forms).
    func testSumAtExtremeParameters() throws {
        let src = scratch.appendingPathComponent("s.csv").path
        let tgt = scratch.appendingPathComponent("t.csv").path
        try "x1,x2\n0,0\n1,0\n".write(toFile: src, atomically: true, encoding: .utf8)
        try "x1,x2\n0,0\n0.5,0.5\n".write(toFile: tgt, atomically: true, encoding: .utf8)
        let base = ["sum", "--sources", src, "--targets", tgt]
        let refused: [([String], String)] = [
            (
                ["--kernel", "gaussian:sigma=1e-300"],
                "sigma = 1e-300 is out of range (a number in [1e-150, 1e+150]: its square and inverse square must be normal doubles"
            ),
            (["--kernel", "gaussian:sigma=1e300", "--method", "mesh"], "sigma = 1e300 is out of range"),
            (
                ["--kernel", "gaussian", "--period", "1e-300"],
                "--period 1e-300 is out of range (a number in [1e-150, 1e+150]"
            ),
            (["--kernel", "gaussian", "--period", "1e300"], "--period 1e+300 is out of range"),
            (
                ["--kernel", "gaussian", "--method", "mesh", "--tolerance", "1e-12"],
                "--tolerance 1e-12 is out of range (a number in [1e-09, 1)"
            ),
            (
                ["--kernel", "gaussian", "--method", "mesh", "--period", "1"],
                "the periodic mesh meets the tolerance only for kernels that have decayed by L/2"
            ),
            (
                ["--kernel", "riesz", "--method", "sliced", "--directions", "9223372036854775807"],
                "--directions 9223372036854775807: must be an integer from 1 to 1048576"
            ),
            (
                ["--kernel", "riesz", "--method", "sliced", "--directions", "2147483647"],
                "--directions 2147483647: must be an integer from 1 to 1048576"
            ),
        ]
        for (args, message) in refused {
            let r = try runWGF(base + args)
            XCTAssertEqual(r.code, 3, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let far = scratch.appendingPathComponent("far.csv").path
        try "x1,x2\n0,0\n1e200,0\n".write(toFile: far, atomically: true, encoding: .utf8)
        let beyond = try runWGF(["sum", "--kernel", "log", "--sources", far, "--targets", tgt])
        XCTAssertEqual(beyond.code, 3, beyond.stderr)
        XCTAssertTrue(beyond.stderr.contains("row 2, x1 = 1e+200 is beyond ±1e+150"), beyond.stderr)
        // σ = 1e150, the widest allowed: Σw = 2 exactly by any method (the mesh gave 1.89 at 1e300).
        for method in ["direct", "mesh", "auto"] {
            let r = try runWGF(base + ["--kernel", "gaussian:sigma=1e150", "--method", method])
            XCTAssertEqual(r.code, 0, r.stderr)
            XCTAssertEqual(r.stdout, "value\n2.0\n2.0\n", method)
        }
    }
}
