import Foundation

/// The scenarios shipped in the checkout's `scenarios/` directory, named without a path:
/// `wgf run quickstart` works from any directory (the Python package runs them by name).
enum BundledScenarios {
    /// The directory of the bundled scenarios: `$WGF_SCENARIOS`; else `scenarios/` of the
    /// checkout this executable was built from; else the first `scenarios/` holding
    /// quickstart.toml above the executable (`.build/<triple>/release/wgf` in a moved checkout).
    static let directory: String? = {
        let fm = FileManager.default
        func holdsScenarios(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/quickstart.toml") }
        if let env = ProcessInfo.processInfo.environment["WGF_SCENARIOS"], !env.isEmpty { return env }
        // Sources/wgf/BundledScenarios.swift → the checkout.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios").path
        if holdsScenarios(source) { return source }
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<5 {
                dir = dir.deletingLastPathComponent()
                let candidate = dir.appendingPathComponent("scenarios").path
                if holdsScenarios(candidate) { return candidate }
            }
        }
        return nil
    }()

    /// The names of the bundled scenarios (file stems), sorted.
    static var names: [String] {
        guard let dir = directory, let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            return []
        }
        return files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// `argument` itself when it names a file or looks like a path; else the bundled scenario of
    /// that name (`quickstart` or `quickstart.toml`), when there is one; else `argument` (whose
    /// error then names it as given).
    static func resolve(_ argument: String) -> String {
        guard !FileManager.default.fileExists(atPath: argument), !argument.contains("/"), let dir = directory else {
            return argument
        }
        let name = argument.hasSuffix(".toml") ? String(argument.dropLast(5)) : argument
        let path = dir + "/" + name + ".toml"
        return FileManager.default.fileExists(atPath: path) ? path : argument
    }

    /// The default scenario: scenarios/quickstart.toml in the current directory, else the
    /// bundled quickstart.
    static var defaultScenario: String {
        let local = "scenarios/quickstart.toml"
        return FileManager.default.fileExists(atPath: local) ? local : resolve("quickstart")
    }
}
