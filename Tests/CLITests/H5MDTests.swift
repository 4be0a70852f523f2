import Flows
import Foundation
import Recording
import XCTest

/// `record.format = "h5md"`: trajectory.h5 read back with h5py (a client independent of wgf)
/// against the CSV of the same run, plot and export of it against those of the CSV run, the
/// resume truncation, a kill -9 in the middle of writing, and HDF5 failures.
final class H5MDTests: ScratchTestCase {

    /// A bundled scenario, shortened, and what its trajectory holds (known from the scenario).
    struct Case {
        let scenario: String
        let overrides: [String]
        /// name, count, dimension, velocities, period.
        let populations: [(String, Int, Int, Bool, Double?)]
    }

    static let cases = [
        // Velocities (underdamped Langevin), 2-D.
        Case(
            scenario: "langevin-underdamped-ou", overrides: ["population.count=300"],
            populations: [("particles", 300, 2, true, nil)]),
        // Two populations whose weights move (Wasserstein–Fisher–Rao) in a periodic box.
        Case(
            scenario: "game-wfr-simultaneous-cycles", overrides: [],
            populations: [("min", 50, 1, false, 2 * Double.pi), ("max", 50, 1, false, 2 * Double.pi)]),
        // d > 2 (the plots draw a projection matrix).
        Case(scenario: "two-layer-student-teacher", overrides: [], populations: [("particles", 300, 12, false, nil)]),
    ]

    /// Runs `c` into `scratch/<name>-csv` and `scratch/<name>-h5md`: 20 steps, a record every 5.
    func runBoth(_ c: Case) throws -> (csv: URL, h5md: URL) {
        var dirs: [URL] = []
        for format in ["csv", "h5md"] {
            let out = scratch.appendingPathComponent("\(c.scenario)-\(format)")
            let args =
                [
                    "run", "scenarios/\(c.scenario).toml", "--out", out.path, "--steps", "20", "--quiet",
                    "--set", "record-every=5", "--set", "expect=[]", "--set", "record.format=\(format)",
                ]
                + c.overrides.flatMap { ["--set", $0] }
            let r = try runWGF(args)
            XCTAssertEqual(r.code, 0, "\(c.scenario) \(format): \(r.stderr)")
            dirs.append(out)
        }
        return (dirs[0], dirs[1])
    }

    func testH5MDLayoutAndValuesEqualTheCSVRun() throws {
        let version = try runWGF(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for c in Self.cases {
            let (csv, h5md) = try runBoth(c)
            let fm = FileManager.default
            XCTAssertFalse(
                fm.fileExists(atPath: h5md.appendingPathComponent("trajectory.csv").path),
                "h5md writes no trajectory.csv")
            XCTAssertFalse(fm.fileExists(atPath: csv.appendingPathComponent("trajectory.h5").path))
            XCTAssertTrue(
                try read(h5md.appendingPathComponent("run.json")).contains("\"trajectory.h5\""),
                "run.json lists trajectory.h5")
            let populations: [[String: Any]] = c.populations.map { p in
                [
                    "name": p.0, "count": p.1, "dimension": p.2, "velocities": p.3,
                    "period": p.4.map { $0 as Any } ?? NSNull(),
                ]
            }
            let spec = String(
                decoding: try JSONSerialization.data(withJSONObject: ["version": version, "populations": populations]),
                as: UTF8.self)
            try assertPython(Self.layoutScript, [h5md.path, csv.path, spec], c.scenario)
        }
    }

    /// Checks trajectory.h5 of argv[1] (an h5md run) against trajectory.csv and metrics.csv of
    /// argv[2] (the same run as csv): layout, types, chunks, and every number bit for bit.
    static let layoutScript = #"""
        import sys, json, csv
        import numpy as np, h5py
        h5run, csvrun, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        errors = []
        def check(ok, what):
            if not ok: errors.append(what)
        def same(a, b):
            a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
            return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))
        def text(v): return v.decode() if isinstance(v, bytes) else str(v)

        f = h5py.File(h5run + '/trajectory.h5', 'r')
        check(f['h5md'].attrs['version'].tolist() == [1, 1], 'h5md version')
        check(text(f['h5md/author'].attrs['name']) != '', 'author name')
        check(text(f['h5md/creator'].attrs['name']) == 'wgf', 'creator name')
        check(text(f['h5md/creator'].attrs['version']) == spec['version'], 'creator version')
        pops = spec['populations']
        check(list(f['particles']) == [p['name'] for p in pops], 'populations in order: %s' % list(f['particles']))

        rows = list(csv.reader(open(csvrun + '/trajectory.csv')))
        header, rows = rows[0], rows[1:]
        d = sum(1 for h in header if h.startswith('x'))
        steps, times, data = [], [], {}
        for r in rows:
            s = int(r[0])
            if not steps or steps[-1] != s:
                steps.append(s); times.append(float(r[1]))
            data.setdefault(r[2], {}).setdefault(s, []).append(
                (int(r[3]), float(r[4]), [float(x) for x in r[5:5 + d]], [float(v) for v in r[5 + d:5 + 2 * d]]))
        check(len(steps) == 5, 'records in the csv run: %s' % steps)

        for p in pops:
            g = f['particles/' + p['name']]
            name, n, dp = p['name'], p['count'], p['dimension']
            box = g['box']
            check(int(box.attrs['dimension']) == dp, name + ' box dimension')
            check([text(b) for b in box.attrs['boundary']] == ['periodic' if p['period'] else 'none'] * dp, name + ' boundary')
            if p['period']:
                check(same(box['edges'][()], [p['period']] * dp), name + ' edges')
            else:
                check('edges' not in box, name + ': edges in R^d')
            recs = [sorted(data[name][s]) for s in steps]
            check(all(len(rec) == n for rec in recs), name + ' particles in the csv')
            expected = {'position': [[x for (_, _, x, _) in rec] for rec in recs],
                        'weight': [[w for (_, w, _, _) in rec] for rec in recs]}
            if p['velocities']:
                expected['velocity'] = [[v for (_, _, _, v) in rec] for rec in recs]
            check(sorted(k for k in g if k != 'box') == sorted(expected), name + ' elements: %s' % list(g))
            for element, values in expected.items():
                e = g[element]
                what = name + '/' + element
                check(e['step'].dtype == np.int64 and e['step'][()].tolist() == steps, what + ' step')
                check(e['time'].dtype == np.float64 and same(e['time'][()], times), what + ' time')
                v = e['value']
                shape = (len(steps), n, dp) if element != 'weight' else (len(steps), n)
                check(v.dtype == np.float64 and v.shape == shape, what + ' value shape %s' % (v.shape,))
                check(v.chunks == (1,) + shape[1:], what + ' chunks %s' % (v.chunks,))
                check(v.maxshape[0] is None and e['step'].maxshape[0] is None and e['time'].maxshape[0] is None, what + ' not extendible')
                check(same(v[()], values), what + ' values differ from the csv run')

        def metrics(run):
            m = list(csv.reader(open(run + '/metrics.csv')))
            return {h: [float(r[k]) for r in m[1:]] for k, h in enumerate(m[0])}
        mine, other = metrics(h5run), metrics(csvrun)
        check(sorted(f['observables']) == sorted(h for h in mine if h not in ('step', 'time')), 'observables: %s' % list(f['observables']))
        for name in f['observables']:
            o = f['observables/' + name]
            check(o['step'][()].tolist() == [int(s) for s in mine['step']] and same(o['time'][()], mine['time']), name + ' steps and times')
            check(same(o['value'][()], mine[name]), name + ' differs from metrics.csv')
            if name != 'wall':
                check(same(o['value'][()], other[name]), name + ' differs from the csv run')
        check(text(f['parameters/scenario'][()]) == open(h5run + '/scenario.toml').read(), 'parameters/scenario')
        print('\n'.join(errors) or 'ok')
        sys.exit(1 if errors else 0)
        """#

    /// `wgf plot` and `wgf export` of the h5md run give the same files, byte for byte, as of
    /// the csv run.
    func testPlotAndExportOfAnH5MDRunEqualThoseOfTheCSVRun() throws {
        let fm = FileManager.default
        for c in Self.cases {
            let (csv, h5md) = try runBoth(c)
            for command in ["plot", "export"] {
                var outputs: [URL] = []
                for run in [csv, h5md] {
                    let out = scratch.appendingPathComponent("\(run.lastPathComponent)-\(command)")
                    let r = try runWGF([command, run.path, "--out", out.path])
                    XCTAssertEqual(r.code, 0, "\(command) \(run.lastPathComponent): \(r.stderr)")
                    outputs.append(out)
                }
                let files = try fm.contentsOfDirectory(atPath: outputs[0].path).sorted()
                XCTAssertEqual(
                    try fm.contentsOfDirectory(atPath: outputs[1].path).sorted(), files, "\(c.scenario) \(command)")
                XCTAssertTrue(files.contains(command == "plot" ? "particles.svg" : "steps.npy"), "\(files)")
                for file in files {
                    XCTAssertEqual(
                        try Data(contentsOf: outputs[1].appendingPathComponent(file)),
                        try Data(contentsOf: outputs[0].appendingPathComponent(file)),
                        "\(c.scenario) \(command): \(file)")
                }
            }
        }
    }

    /// A run killed (SIGKILL) while it writes records leaves a trajectory.h5 that h5py opens (in
    /// SWMR mode: the killed writer's mark stays), in which every element has at least as many
    /// values as times and times as steps, at most one more, and the value of every listed step
    /// written; wgf reads it, and the resume API continues it.
    func testKilledRunLeavesAReadableFile() throws {
        for (trial, delay) in [0.0, 0.25, 0.6].enumerated() {
            let run = scratch.appendingPathComponent("killed-\(trial)")
            let file = run.appendingPathComponent("trajectory.h5")
            let p = Process()
            p.executableURL = CLITests.binary
            p.currentDirectoryURL = CLITests.root
            p.arguments = [
                "run", "scenarios/langevin-ou.toml", "--out", run.path, "--steps", "100000", "--quiet",
                "--set", "record-every=1", "--set", "population.count=50000", "--set",
                #"record.metrics=["variance", "cov-error", "mean-error"]"#,
                "--set", "expect=[]", "--set", "record.format=h5md",
            ]
            let log = scratch.appendingPathComponent("killed-\(trial).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = try FileHandle(forWritingTo: log)
            try p.run()
            // Wait until records are being written (a few MB), then a little more.
            let deadline = Date().addingTimeInterval(120)
            func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int) ?? 0 }
            while size() < 4_000_000 && p.isRunning && Date() < deadline { usleep(5000) }
            Thread.sleep(forTimeInterval: delay)
            guard p.isRunning else {
                XCTFail("trial \(trial): the run must still be going when killed: \((try? read(log)) ?? "")")
                continue
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal)
            try assertPython(Self.killedScript, [file.path], "trial \(trial)")
            let export = try runWGF(["export", run.path])
            XCTAssertEqual(export.code, 0, "wgf reads the killed run's file: \(export.stderr)")
            guard trial == 0 else { continue }
            // The resume API on the killed file: keep the records of steps ≤ 1, append steps 2 and 3
            // (every position 0.5), close: the file then opens plainly, with those four records.
            do {
                let layout = H5MDLayout(
                    populations: [.init(name: "particles", count: 50000, dimension: 2, velocities: false, period: nil)],
                    metricNames: ["variance", "cov-error", "mean-error"], scenario: "", creatorVersion: "test")
                let r = try H5MDRecorder(path: file.path, layout: layout, resumeAfter: 1)
                let state = SimulationState(populations: [
                    Population(name: "particles", dimension: 2, positions: [Double](repeating: 0.5, count: 100_000))
                ])
                for step in [2, 3] {
                    try r.recordState(step: step, time: 0.1 * Double(step), state: state)
                    try r.recordMetrics(step: step, time: 0.1 * Double(step), wall: 1, values: [1, 2, 3])
                }
                try r.close()
            }
            try assertPython(Self.resumedScript, [file.path], "resumed after the kill")
        }
    }

    /// A killed run's file resumed after step 1 and given steps 2 and 3 (positions 0.5): a
    /// plain open, four records everywhere, the first two the run's.
    static let resumedScript = #"""
        import sys, h5py, numpy as np
        f = h5py.File(sys.argv[1], 'r')
        errors = []
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and 'step' in obj:
                if obj['step'][()].tolist() != [0, 1, 2, 3] or obj['time'].shape != (4,) or obj['value'].shape[0] != 4:
                    errors.append('%s: steps %s' % (name, obj['step'][()].tolist()))
        f.visititems(visit)
        x = f['particles/particles/position/value']
        if not (np.all(x[2:] == 0.5) and np.all(np.isfinite(x[:2])) and np.all(x[:2] != 0.5)):
            errors.append('positions are not the run\'s then the resumed ones')
        print('\n'.join(errors) or 'ok')
        sys.exit(1 if errors else 0)
        """#

    static let killedScript = #"""
        import sys, h5py, numpy as np
        f = h5py.File(sys.argv[1], 'r', swmr=True)
        errors, counts = [], {}
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and 'step' in obj:
                n, t, v = obj['step'].shape[0], obj['time'].shape[0], obj['value'].shape[0]
                counts[name] = (n, t, v)
                if not n <= t <= v <= n + 1:
                    errors.append('%s: step %d, time %d, value %d' % (name, n, t, v))
                if n < 1:
                    errors.append(name + ': no record')
                if n > 1 and not np.all(np.diff(obj['step'][()]) > 0):
                    errors.append(name + ': steps do not increase')
        f.visititems(visit)
        if sorted(counts) != ['observables/cov-error', 'observables/mean-error', 'observables/variance', 'observables/wall', 'particles/particles/position', 'particles/particles/weight']:
            errors.append('elements: %s' % sorted(counts))
        v = f['particles/particles/position/value']
        for r in range(f['particles/particles/position/step'].shape[0]):
            x = v[r]
            if not (np.all(np.isfinite(x)) and np.all(np.abs(x) < 50) and np.any(x != 0)):
                errors.append('record %d of the positions was not written' % r)
        print(counts)
        print('\n'.join(errors) or 'ok')
        sys.exit(1 if errors else 0)
        """#

    /// A failed HDF5 write reported on one line: the file, what wgf was doing, the system's
    /// reason, and none of HDF5's dump (buffer address, byte counts).
    func assertOneLineFailure(
        _ stderr: String, _ file: URL, _ reason: String, _ label: String,
        sourceFile: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            stderr.split(separator: "\n").count, 1, "\(label): one line: \(stderr)", file: sourceFile, line: line)
        XCTAssertTrue(
            stderr.hasPrefix("wgf: \(file.path): cannot flush (HDF5: "), "\(label): \(stderr)", file: sourceFile,
            line: line)
        XCTAssertTrue(
            stderr.contains("file write failed: \(reason))"), "\(label): the system's reason: \(stderr)",
            file: sourceFile, line: line)
        XCTAssertFalse(
            stderr.contains("buf = ") || stderr.contains("errno ="), "\(label): no HDF5 dump: \(stderr)",
            file: sourceFile, line: line)
        XCTAssertFalse(stderr.contains("crashed"), "\(label): \(stderr)", file: sourceFile, line: line)
    }

    /// `wgf export` of `a` and of `b` (into the scratch directory) write the same arrays.
    func assertSameArrays(
        _ a: URL, _ b: URL, _ label: String, sourceFile: StaticString = #filePath, line: UInt = #line
    ) throws {
        var arrays: [[String: Data]] = []
        for (k, dir) in [a, b].enumerated() {
            let npy = scratch.appendingPathComponent("\(label)-npy-\(k)")
            let r = try runWGF(["export", dir.path, "--out", npy.path])
            XCTAssertEqual(
                r.code, 0, "\(label): export \(dir.lastPathComponent): \(r.stderr)", file: sourceFile, line: line)
            let names = try FileManager.default.contentsOfDirectory(atPath: npy.path).filter { $0.hasSuffix(".npy") }
            arrays.append(
                try Dictionary(
                    uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: npy.appendingPathComponent($0))) }))
        }
        XCTAssertEqual(arrays[0].keys.sorted(), arrays[1].keys.sorted(), label, file: sourceFile, line: line)
        XCTAssertTrue(
            arrays[0].keys.contains("positions.npy"), "\(label): \(arrays[0].keys.sorted())", file: sourceFile,
            line: line)
        for (name, data) in arrays[0] {
            XCTAssertTrue(data == arrays[1][name], "\(label): \(name) differs", file: sourceFile, line: line)
        }
    }

    /// An HDF5 write that fails (here a file-size limit reached by trajectory.h5 in the middle
    /// of the run, after checkpoints) ends the run with exit 5, not a crash in HDF5's cleanup:
    /// one line naming the file and the system's reason, run.json `io-failure`; without the
    /// limit the run resumes from its last checkpoint and its arrays equal those of one
    /// uninterrupted run. A trajectory.h5 replaced by a directory stops the resume with exit 5,
    /// one that is not HDF5 with exit 3 (bad input), as it does `wgf plot` and `wgf export`.
    func testHDF5FailuresExitWithThePath() throws {
        let args = [
            "run", "scenarios/quickstart.toml", "--steps", "200", "--quiet", "--set", "record.format=h5md",
            "--set", "checkpoint-every=20",
        ]
        let run = scratch.appendingPathComponent("limited")
        let whole = scratch.appendingPathComponent("whole")
        // 500 blocks: 256 000 bytes, the size trajectory.h5 reaches at about step 140 (327 kB at step 200).
        let limited = try runWGF(args + ["--out", run.path], ulimit: "-f 500")
        XCTAssertEqual(limited.code, 5, limited.stderr)
        assertOneLineFailure(
            limited.stderr, run.appendingPathComponent("trajectory.h5"), "File too large", "file-size limit")
        let info = try runJSON(run)
        XCTAssertEqual(info["status"] as? String, "io-failure")
        XCTAssertTrue((info["detail"] as? String ?? "").hasSuffix("file write failed: File too large)"), "\(info)")
        let resumed = try runWGF(["run", "--resume", run.path, "--quiet"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        let from = resumed.stdout.range(of: #"steps [0-9]+–200"#, options: .regularExpression).map {
            resumed.stdout[$0].dropFirst(6).prefix { $0 != "–" }
        }
        XCTAssertGreaterThan(Int(from ?? "") ?? 0, 1, "resumed from a checkpoint after step 0: \(resumed.stdout)")
        XCTAssertEqual(try runJSON(run)["status"] as? String, "completed")
        XCTAssertEqual(try runWGF(args + ["--out", whole.path]).code, 0)
        try assertSameArrays(whole, run, "resumed after the limit")

        // On a resume: a directory where trajectory.h5 was (exit 5), a file that is not HDF5 (exit 3).
        let file = run.appendingPathComponent("trajectory.h5")
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        let blocked = try runWGF(["run", "--resume", run.path, "--steps", "220", "--quiet"])
        XCTAssertEqual(blocked.code, 5, blocked.stderr)
        XCTAssertTrue(blocked.stderr.hasPrefix("wgf: cannot resume: \(file.path): "), blocked.stderr)
        XCTAssertTrue(blocked.stderr.contains("Is a directory"), "HDF5's own reason: \(blocked.stderr)")
        XCTAssertEqual(blocked.stderr.split(separator: "\n").count, 1, blocked.stderr)
        XCTAssertEqual(try runJSON(run)["status"] as? String, "io-failure")
        try FileManager.default.removeItem(at: file)
        try "not HDF5".write(to: file, atomically: true, encoding: .utf8)
        let foreign = try runWGF(["run", "--resume", run.path, "--steps", "220", "--quiet"])
        XCTAssertEqual(foreign.code, 3, foreign.stderr)
        XCTAssertEqual(foreign.stderr, "wgf: cannot resume: \(file.path): not an HDF5 file\n")
        XCTAssertEqual(try runJSON(run)["status"] as? String, "io-failure")

        let fake = scratch.appendingPathComponent("fake")
        XCTAssertEqual(
            try runWGF(["run", "scenarios/quickstart.toml", "--out", fake.path, "--steps", "5", "--quiet"]).code, 0)
        try "not HDF5".write(to: fake.appendingPathComponent("trajectory.h5"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: fake.appendingPathComponent("run.json"))
        for command in ["plot", "export"] {
            let bad = try runWGF([command, fake.path])
            XCTAssertEqual(bad.code, 3, "\(command): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.contains("trajectory.h5: not an HDF5 file"), bad.stderr)
        }
    }

    /// A full disk (a 1 MiB tmpfs) under trajectory.h5: exit 5 with the file and "No space left
    /// on device" on one line, no crash; once the disk is larger the run resumes and equals one
    /// uninterrupted run. (600 particles, no metrics: trajectory.h5 fills the disk alone, 14 kB a
    /// record, while metrics.csv stays within its first page.)
    func testAFullDiskIsAnHDF5IOFailure() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mount = scratch.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        func sh(_ command: String, _ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: command)
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        XCTAssertEqual(try sh("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.path]), 0, "mount a tmpfs")
        defer { _ = try? sh("/bin/umount", [mount.path]) }
        let args = [
            "run", "scenarios/quickstart.toml", "--steps", "1500", "--quiet", "--set", "record.format=h5md",
            "--set", "population.count=600", "--set", "record.metrics=[]", "--set", "expect=[]",
        ]
        let run = mount.appendingPathComponent("run")
        let full = try runWGF(args + ["--out", run.path])
        XCTAssertEqual(full.code, 5, full.stderr)
        assertOneLineFailure(
            full.stderr, run.appendingPathComponent("trajectory.h5"), "No space left on device", "full disk")
        // The disk has no room left for the new run.json: the one written at the start stays, whole.
        let info = try runJSON(run)
        XCTAssertTrue(["io-failure", "running"].contains(info["status"] as? String ?? ""), "\(info)")
        XCTAssertEqual(try sh("/bin/mount", ["-o", "remount,size=8m", mount.path]), 0, "enlarge the tmpfs")
        let resumed = try runWGF(["run", "--resume", run.path, "--quiet"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        let whole = scratch.appendingPathComponent("whole")
        XCTAssertEqual(try runWGF(args + ["--out", whole.path]).code, 0)
        try assertSameArrays(whole, run, "resumed after the full disk")
    }

    // MARK: the resume API

    /// Record r of a synthetic run: population a (3 particles in 2-D, with velocities) and b
    /// (4 particles in 1-D, weights moving); `lost` records differ (a future thrown away).
    func state(_ r: Int, lost: Bool = false) -> SimulationState {
        let shift = lost ? 100.0 : 0
        var a = Population(name: "a", dimension: 2, positions: (0..<6).map { Double($0) + 0.25 * Double(r) + shift })
        a.velocities = (0..<6).map { -0.5 * Double($0) - Double(r) }
        var b = Population(name: "b", dimension: 1, positions: (0..<4).map { sin(Double($0 + r)) + shift })
        b.weights = (0..<4).map { Double($0 + 1 + r) / Double(10 + 4 * r) }
        return SimulationState(populations: [a, b])
    }

    func metrics(_ r: Int, lost: Bool = false) -> [Double] { [1.5 * Double(r) + (lost ? 7 : 0), 1 / Double(r + 1)] }

    let layout = H5MDLayout(
        populations: [
            .init(name: "a", count: 3, dimension: 2, velocities: true, period: nil),
            .init(name: "b", count: 4, dimension: 1, velocities: false, period: 2),
        ],
        metricNames: ["m1", "m2"], scenario: "steps = 40\n", creatorVersion: "test", author: "tester")

    /// Records r in `records` of the synthetic run (steps 10 r, times 0.05 × step).
    func record(_ recorder: H5MDRecorder, _ records: some Sequence<Int>, lost: (Int) -> Bool = { _ in false }) throws {
        for r in records {
            try recorder.recordState(step: 10 * r, time: 0.5 * Double(r), state: state(r, lost: lost(r)))
            try recorder.recordMetrics(
                step: 10 * r, time: 0.5 * Double(r), wall: 0.01 * Double(r), values: metrics(r, lost: lost(r)))
        }
    }

    /// Five records; then a file whose records past step K were of a lost future, reopened
    /// with `resumeAfter: K` and continued: it equals the uninterrupted file (h5py compares
    /// every dataset and attribute), and its values are the run's.
    func testResumeTruncatesAfterTheCheckpointStepAndAppends() throws {
        let straight = scratch.appendingPathComponent("straight.h5").path
        do {
            let r = try H5MDRecorder(path: straight, layout: layout)
            try record(r, 0..<3)
            XCTAssertEqual(try r.synchronize(), ["trajectory.h5": 3], "records so far, made durable")
            try record(r, 3..<5)
            try r.close()
        }
        for last in [25, 20, 0, -1] {
            let resumed = scratch.appendingPathComponent("resumed-\(last).h5").path
            let kept = (0..<5).filter { 10 * $0 <= last }
            do {
                let r = try H5MDRecorder(path: resumed, layout: layout)
                try record(r, 0..<5, lost: { 10 * $0 > last })
                try r.close()
            }
            do {
                let r = try H5MDRecorder(path: resumed, layout: layout, resumeAfter: last)
                try record(r, kept.count..<5)
                try r.close()
            }
            try assertPython(Self.sameFilesScript, [straight, resumed], "resumed after step \(last)")
            let file = try H5MDTrajectoryFile(path: resumed)
            XCTAssertEqual(file.steps, [0, 10, 20, 30, 40])
            XCTAssertEqual(file.populations.map(\.name), ["a", "b"])
            for r in 0..<5 {
                let s = state(r)
                XCTAssertEqual(
                    try file.positions(0, record: r), s.populations[0].positions, "after \(last), record \(r)")
                XCTAssertEqual(try file.velocities(0, record: r), s.populations[0].velocities)
                XCTAssertEqual(try file.weights(1, record: r), s.populations[1].weights)
                XCTAssertEqual(
                    try file.positions(1, record: r, rows: [3, 1]),
                    [s.populations[1].positions[3], s.populations[1].positions[1]])
            }
        }
        // Nothing to resume, or a file of another run: IOFailures naming the file.
        let missing = scratch.appendingPathComponent("missing.h5").path
        XCTAssertThrowsError(try H5MDRecorder(path: missing, layout: layout, resumeAfter: 10)) { e in
            XCTAssertEqual((e as? IOFailure)?.path, missing)
        }
        var other = layout
        other.populations[1].count = 5
        XCTAssertThrowsError(try H5MDRecorder(path: straight, layout: other, resumeAfter: 10)) { e in
            XCTAssertTrue((e as? IOFailure)?.message.contains("the run's are [5, 1]") ?? false, "\(e)")
        }
    }

    /// argv[1] and argv[2] hold the same objects, attributes and datasets (shape, type, bytes).
    static let sameFilesScript = #"""
        import sys, h5py, numpy as np
        files = [h5py.File(p, 'r') for p in sys.argv[1:3]]
        objects = []
        for f in files:
            found = {}
            f.visititems(lambda name, obj: found.__setitem__(name, obj))
            objects.append(found)
        a, b = objects
        errors = []
        if sorted(a) != sorted(b):
            errors.append('objects differ: %s' % sorted(set(a) ^ set(b)))
        if 'particles/a/position/value' not in a or a['particles/a/position/value'].shape != (5, 3, 2):
            errors.append('the uninterrupted file does not hold 5 records')
        for name in sorted(set(a) & set(b)):
            x, y = a[name], b[name]
            if sorted(x.attrs) != sorted(y.attrs) or any(np.asarray(x.attrs[k]).tobytes() != np.asarray(y.attrs[k]).tobytes() for k in x.attrs):
                errors.append(name + ': attributes differ')
            if isinstance(x, h5py.Dataset):
                if x.shape != y.shape or x.dtype != y.dtype or x[()].tobytes() != y[()].tobytes():
                    errors.append('%s: %s %s differs from %s %s' % (name, y.shape, y.dtype, x.shape, x.dtype))
        print('\n'.join(errors) or 'ok')
        sys.exit(1 if errors else 0)
        """#
}
