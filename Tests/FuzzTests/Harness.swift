import Flows
import Formula
import Foundation
import Plotting
import Recording
import Scenarios

/// One fuzz input fed to the in-process readers. Each reader must either accept the input or
/// throw its documented, typed error with a message of bounded length (a message never echoes
/// the input); a crash, a hang or any other error is a finding.
///
/// Shared by the seeded mutation tests (`FuzzTests`) and the libFuzzer targets that
/// `scripts/fuzz.sh` builds from this file.
enum FuzzHarness {
    /// What a reader did with an input that is not a finding.
    enum Outcome: Equatable {
        case accepted
        case rejected
        /// An error of an undocumented type, or a message longer than `maxMessage`.
        case finding(String)
    }

    /// The longest error message accepted: room for the lists of allowed keys and names, far
    /// less than the inputs the fuzzers produce.
    static let maxMessage = 3000

    static func rejected(_ message: String) -> Outcome {
        message.utf8.count <= maxMessage
            ? .rejected : .finding("a message of \(message.utf8.count) bytes: \(message.prefix(300))…")
    }

    /// A scenario validated as `wgf validate` does (decoded and built, not run). `path` names
    /// it in messages and anchors its relative paths.
    static func scenario(_ bytes: [UInt8], path: String) -> Outcome {
        do {
            _ = try ScenarioLoader.load(path: path, contents: bytes, threads: 1)
            return .accepted
        } catch let e as ScenarioError {
            return rejected(e.description)
        } catch {
            return .finding("untyped error \(type(of: error)): \(error)")
        }
    }

    /// The formula compiled for each kind of variables, then evaluated with gradients at a few
    /// points (any value, NaN included, is fine).
    static func formula(_ text: String) -> Outcome {
        let kinds: [FormulaVariables] = [.position(dimension: 2), .payoff(dimension: 1, secondDimension: 2), .radius]
        var outcome = Outcome.rejected
        for variables in kinds {
            let f: Formula
            do { f = try Formula(text, variables: variables, parameters: ["s": 0.5, "a": -2]) } catch {
                let r = rejected(error.description)
                if case .finding = r { return r }
                continue
            }
            let n = f.inputCount
            let points = 3
            let inputs = (0..<(n * points)).map { [0.0, -1.5, 2.0, 1e-300, 3.7][$0 % 5] }
            var values = [Double](repeating: 0, count: points)
            var gradients = [Double](repeating: 0, count: n * points)
            var ws = FormulaWorkspace(for: f, batch: 2)
            f.evaluate(inputs: inputs, count: points, values: &values, gradients: &gradients, workspace: &ws)
            _ = f.valueAndGradient(at: Array(inputs[0..<n]))
            outcome = .accepted
        }
        return outcome
    }

    /// CSV bytes read as a user's points file and as a numeric table, then (ending in a
    /// newline, as wgf writes them) as a run's metrics and trajectory files. `path` is a
    /// scratch file the bytes are written to.
    static func csv(_ bytes: [UInt8], path: String) -> Outcome {
        var outcome = Outcome.rejected
        func attempt(_ read: () throws -> Void) -> Outcome? {
            do {
                try read()
                outcome = .accepted
                return nil
            } catch let e as InputFileError {
                if case .finding(let f) = rejected(e.description) { return .finding(f) }
            } catch let e as RunFileError {
                if case .finding(let f) = rejected(e.description) { return .finding(f) }
            } catch {
                return .finding("untyped error \(type(of: error)): \(error)")
            }
            return nil
        }
        func write(_ b: [UInt8]) -> Bool { (try? Data(b).write(to: URL(fileURLWithPath: path))) != nil }
        guard write(bytes) else { return .finding("cannot write \(path)") }
        for allowWeights in [false, true] {
            if let f = attempt({ _ = try readPoints(path: path, allowWeights: allowWeights) }) { return f }
        }
        if let f = attempt({ _ = try NumericTable.read(path: path) }) { return f }
        // Complete rows only: a trailing newline keeps the reader from warning on every input.
        if bytes.last != 0x0A {
            guard write(bytes + [0x0A]) else { return .finding("cannot write \(path)") }
        }
        if let f = attempt({ _ = try MetricSeries.read(path: path) }) { return f }
        if let f = attempt({ _ = try Trajectory.read(path: path) }) { return f }
        return outcome
    }
}
