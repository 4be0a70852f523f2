import Foundation

/// Where the running wgf executable is, so that a sweep starts its runs with the same build.
public enum Executable {
    /// The running executable: the target of `/proc/self/exe` (Linux), or else
    /// `CommandLine.arguments[0]` resolved (see ``resolve(procSelfExe:argument0:currentDirectory:searchPath:)``).
    public static var current: String? {
        resolve(
            procSelfExe: readLink("/proc/self/exe"), argument0: CommandLine.arguments.first ?? "",
            currentDirectory: FileManager.default.currentDirectoryPath,
            searchPath: ProcessInfo.processInfo.environment["PATH"])
    }

    /// The executable's absolute path from what the system says:
    /// - `procSelfExe`, the target of `/proc/self/exe`, when there is one and it is executable
    ///   (it names the file even when the program was started through a symbolic link or by a
    ///   relative path, and cannot be spoofed by the caller's `argv[0]`);
    /// - otherwise `argument0`: a path containing `/` is taken relative to `currentDirectory`;
    ///   a bare name is looked up in `searchPath` (`PATH`), as the shell found it.
    ///
    /// - Returns: The path, or nil when neither gives an executable file.
    public static func resolve(
        procSelfExe: String?, argument0: String, currentDirectory: String,
        searchPath: String?
    ) -> String? {
        if let p = procSelfExe, p.hasPrefix("/"), isExecutable(p) { return p }
        guard !argument0.isEmpty else { return nil }
        if argument0.contains("/") {
            let path =
                argument0.hasPrefix("/") ? argument0 : (currentDirectory as NSString).appendingPathComponent(argument0)
            let standard = (path as NSString).standardizingPath
            return isExecutable(standard) ? standard : nil
        }
        for directory in (searchPath ?? "").split(separator: ":", omittingEmptySubsequences: false) {
            let base = directory.isEmpty ? currentDirectory : String(directory)
            let absolute = base.hasPrefix("/") ? base : (currentDirectory as NSString).appendingPathComponent(base)
            let candidate = ((absolute as NSString).appendingPathComponent(argument0) as NSString).standardizingPath
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    static func isExecutable(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && access(path, X_OK) == 0
    }

    /// The target of the symbolic link at `path`, or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
