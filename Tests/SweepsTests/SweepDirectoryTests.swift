import Foundation
import Sweeps
import TestSupport
import XCTest

/// Reading a sweep directory back: quoted CSV fields, the bands of summary.csv, refusals.
final class SweepDirectoryTests: XCTestCase {
    func testQuotedFieldsAndBands() throws {
        let dir = TempDirectory(prefix: "wgf-sweepdir")
        dir.write(
            "sweep.csv",
            #"""
            variant,flow.kernel,seed,status,exit-code,wall-seconds,final:mmd
            "flow.kernel=""matern:nu=1.5,sigma=2""","""matern:nu=1.5,sigma=2""",1,completed,0,0.5,0.25
            flow.kernel=imq,imq,1,diverged,4,,
            flow.kernel=imq,imq,2,completed,0,0.1,0.5

            """#.replacingOccurrences(of: ",,\n", with: ",,\r\n"))
        dir.write(
            "summary.csv",
            #"""
            variant,flow.kernel,step,time,n,mmd:mean,mmd:sd,mmd:ci95
            "flow.kernel=""matern:nu=1.5,sigma=2""","""matern:nu=1.5,sigma=2""",0,0.0,1,0.9,,
            flow.kernel=imq,imq,0,0.0,2,0.8,0.1,0.9
            flow.kernel=imq,imq,10,0.5,2,0.4,0.05,0.45
            """#)
        XCTAssertTrue(SweepDirectory.isSweep(dir.path))
        let sweep = try SweepDirectory.read(dir.path)
        let matern = #"flow.kernel="matern:nu=1.5,sigma=2""#
        XCTAssertEqual(sweep.runs.map(\.variant), [matern, "flow.kernel=imq", "flow.kernel=imq"])
        XCTAssertEqual(sweep.runs.map(\.seed), [1, 1, 2])
        XCTAssertEqual(sweep.runs.map(\.status), ["completed", "diverged", "completed"])
        XCTAssertEqual(sweep.variants, [matern, "flow.kernel=imq"])
        XCTAssertEqual(
            sweep.runDirectory(sweep.runs[0]), dir.path + "/" + Variant.directoryName(for: matern) + "/seed-1")
        XCTAssertEqual(sweep.metrics, ["mmd"])
        let bands = try XCTUnwrap(sweep.bands("mmd"))
        XCTAssertEqual(bands.map(\.variant), [matern, "flow.kernel=imq"])
        XCTAssertEqual(bands[1].steps, [0, 10])
        XCTAssertEqual(bands[1].times, [0, 0.5])
        XCTAssertEqual(bands[1].counts, [2, 2])
        XCTAssertEqual(bands[1].means, [0.8, 0.4])
        XCTAssertEqual(bands[1].halfWidths, [0.9, 0.45])
        XCTAssertEqual(bands[0].halfWidths, [nil], "one seed: no band")
        XCTAssertNil(sweep.bands("ksd"))
    }

    func testRefusals() {
        let dir = TempDirectory(prefix: "wgf-sweepdir")
        XCTAssertFalse(SweepDirectory.isSweep(dir.path))
        dir.write("sweep.csv", "variant,seed,status\n\"a,1,completed\n")
        dir.write("summary.csv", "variant,step,time,n\n")
        XCTAssertTrue(SweepDirectory.isSweep(dir.path))
        for (text, message) in [
            ("variant,seed,status\n\"a,1,completed\n", "malformed quote"),
            ("variant,seed\na,1\n", "no column 'status'"),
            ("variant,seed,status\na,1\n", "row 2 has 2 fields"),
            ("variant,seed,status\na,x,completed\n", "'x' is not a seed"),
        ] {
            dir.write("sweep.csv", text)
            XCTAssertThrowsError(try SweepDirectory.read(dir.path)) { e in
                XCTAssertEqual((e as? SweepError)?.kind, .badInput)
                XCTAssertTrue("\(e)".contains(message), "\(e)")
            }
        }
        // A run directory is not a sweep's, even with files of those names.
        dir.write("run.json", "{}")
        XCTAssertFalse(SweepDirectory.isSweep(dir.path))
    }
}
