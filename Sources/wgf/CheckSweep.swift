import ArgumentParser
import Flows
import Foundation
import Sweeps

extension Check {
    /// `wgf check SWEEP_DIR`: each variant's expectations over its seeds, against each
    /// expectation's `fraction`; exit 1 if one fails.
    func checkSweep(_ directory: String) throws {
        let sweep: SweepDirectory
        do { sweep = try SweepDirectory.read(directory) } catch { throw Sweep.failure(error) }
        let verdicts = SweepCheck.judge(sweep)
        if verdicts.isEmpty {
            print("\(directory): no expectations to check")
            return
        }
        let header = ["variant", "expectation", "seeds holding", "required", "verdict"]
        let rows = verdicts.map { v in
            [
                v.variant, "\(v.index). \(v.expectation.description)", "\(v.holding)/\(v.total)",
                "\(formatSignificant(v.expectation.fraction * 100))% (\(v.required))", v.passed ? "pass" : "FAIL",
            ]
        }
        printColumns(header: header, rows: rows)
        var noted: Set<String> = []
        for v in verdicts where noted.insert(v.variant).inserted {
            for u in v.unreadable { printError("\(directory): \(v.variant) \(u) (counted as not holding)") }
        }
        let failed = verdicts.filter { !$0.passed }.count
        print(
            "\(directory): \(verdicts.count - failed) passed, \(failed) failed (over seeds, each against its fraction)")
        if failed > 0 { throw ExitCode(Exit.expectationFailed) }
    }
}
