import Foundation
import InputText

/// How the last line of a CSV file is read.
public enum CSVEnding: Sendable {
    /// A file the user wrote (an init file, target samples, training data): its last line may
    /// lack the final "\n".
    case lenient
    /// A file wgf wrote (metrics.csv, trajectory.csv): wgf ends every row with "\n", so a last
    /// line without one is a record cut by a killed run or a full disk. It is dropped with a
    /// warning on stderr, never parsed: a number cut short reads as a wrong value.
    case completeRowsOnly
}

/// A CSV file split into lines and fields at the byte level, so that any content at all (NUL
/// bytes, invalid UTF-8, CRLF line ends, a 1 GB line) gives a located error, not a crash, and
/// messages quote at most a shortened field (see `Excerpt`), never the file.
public struct CSVFile {
    /// The file, as named in messages.
    public let path: String
    let bytes: [UInt8]
    /// Every line that is not blank: its 1-based number and its bytes without the line end.
    public private(set) var lines: [(number: Int, range: Range<Int>)] = []
    /// The line number of a last row dropped as incomplete (see `CSVEnding.completeRowsOnly`).
    public private(set) var droppedLastRow: Int? = nil

    /// A note on stderr about input that was read in part (the run still goes on).
    public static func warn(_ message: String) {
        writeStandardError(message + "\n")
    }

    /// Reads the whole file and splits it into lines (a CRLF end counts as a line end).
    ///
    /// - Throws: ``InputFileError`` when it cannot be read, or holds a NUL byte or invalid UTF-8.
    public init(path: String, ending: CSVEnding) throws {
        let bytes: [UInt8]
        do { bytes = try readInputFile(path: path) } catch {
            throw InputFileError(path: path, line: nil, .unreadable(error.reason))
        }
        try self.init(path: path, bytes: bytes, ending: ending)
    }

    /// Splits the file's `bytes`, read already, into lines.
    ///
    /// - Throws: ``InputFileError`` when they hold a NUL byte or invalid UTF-8.
    public init(path: String, bytes: [UInt8], ending: CSVEnding) throws {
        self.path = path
        self.bytes = bytes
        try Self.checkText(bytes, path: path)
        // A byte-order mark (spreadsheets write one) is not part of the first header name.
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var number = 1
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                if ending == .completeRowsOnly {
                    droppedLastRow = number
                    CSVFile.warn("\(path): ignoring an incomplete last row (line \(number))")
                } else {
                    add(number, start..<bytes.count)
                }
                break
            }
            add(number, start..<(newline > start && bytes[newline - 1] == 0x0D ? newline - 1 : newline))
            start = newline + 1
            number += 1
        }
    }

    /// A CSV is text: a NUL byte or bytes that are not UTF-8 mean a binary file (or
    /// /proc/self/environ), reported by position without quoting any of it.
    static func checkText(_ bytes: [UInt8], path: String) throws {
        guard let bad = [bytes.firstIndex(of: 0), UTF8Scan.firstInvalid(in: bytes)].compactMap({ $0 }).min() else {
            return
        }
        let lineStart = bytes[..<bad].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let line = bytes[..<bad].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        throw InputFileError(path: path, line: line, .notText(byte: bytes[bad], column: bad - lineStart + 1))
    }

    private mutating func add(_ number: Int, _ range: Range<Int>) {
        if !trimmed(range).isEmpty { lines.append((number, range)) }
    }

    /// `range` without leading and trailing spaces and tabs.
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi && (bytes[lo] == 0x20 || bytes[lo] == 0x09) { lo += 1 }
        while hi > lo && (bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09) { hi -= 1 }
        return lo..<hi
    }

    /// The comma-separated fields of a line (empty fields kept).
    public func fields(_ line: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = line.lowerBound
        for i in line where bytes[i] == 0x2C {
            out.append(start..<i)
            start = i + 1
        }
        out.append(start..<line.upperBound)
        return out
    }

    /// A field as text, trimmed (header names, population names).
    public func text(_ field: Range<Int>) -> String {
        String(decoding: bytes[trimmed(field)], as: UTF8.self)
    }

    /// A field as a number (spaces around it allowed); nil if it is not one.
    public func number(_ field: Range<Int>) -> Double? {
        let t = trimmed(field)
        // Printable ASCII only: Double(_:) reads through C, which would stop at a NUL byte.
        guard !t.isEmpty, bytes[t].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return Double(String(decoding: bytes[t], as: UTF8.self))
    }

    /// A field as an integer (spaces around it allowed); nil if it is not one.
    public func integer(_ field: Range<Int>) -> Int? {
        let t = trimmed(field)
        guard !t.isEmpty, bytes[t].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return Int(String(decoding: bytes[t], as: UTF8.self))
    }

    /// An error at a line of this file.
    ///
    /// - Parameters:
    ///   - line: The 1-based line at fault; nil for the whole file.
    ///   - problem: What is wrong there.
    public func error(line: Int?, _ problem: InputFileProblem) -> InputFileError {
        InputFileError(path: path, line: line, problem)
    }
}
