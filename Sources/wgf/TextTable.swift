import Flows
import Foundation

/// Prints `rows` under `header` in columns two spaces apart, each as wide as its widest cell:
/// the first `leftAligned` columns padded on the right (labels), the others on the left
/// (numbers), with no blanks at the ends of a line. The tables of `compare`, `check` and `sweep`.
///
/// - Parameters:
///   - header: the column names.
///   - rows: the cells, as many per row as `header` has names.
///   - leftAligned: how many leading columns are labels (default: every column).
func printColumns(header: [String], rows: [[String]], leftAligned: Int = .max) {
    let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
    func line(_ fields: [String]) -> String {
        fields.enumerated().map { c, f in
            c < leftAligned
                ? f.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - f.count) + f
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

/// A cell of a command's table: text, a number, or an integer, either possibly missing. The
/// terminal shows numbers to 4 significant digits and a missing value as `-`; CSV holds every
/// digit (the shortest text that reads back to the same double) and leaves a missing value
/// empty, which pandas and numpy read as NaN.
enum TableCell {
    case text(String)
    case number(Double?)
    case integer(Int?)

    /// For the terminal's table.
    var shown: String {
        switch self {
        case .text(let t): t
        case .number(let v): v.map { formatSignificant($0) } ?? "-"
        case .integer(let v): v.map(String.init) ?? "-"
        }
    }

    /// For a CSV field (quoted when it holds a comma or a quote).
    var csv: String {
        switch self {
        case .text(let t):
            t.contains(",") || t.contains("\"") ? "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : t
        case .number(let v): v.map(\.description) ?? ""
        case .integer(let v): v.map(String.init) ?? ""
        }
    }
}

extension TableCell {
    /// For JSON: the text, the number (NaN and ±inf, which JSON lacks, as text), or null.
    var json: Any {
        switch self {
        case .text(let t): t
        case .number(let v): v.map { $0.isFinite ? $0 as Any : $0.description as Any } ?? NSNull()
        case .integer(let v): v.map { $0 as Any } ?? NSNull()
        }
    }
}

/// Prints `rows` under `header` as CSV (see ``TableCell/csv``).
func printCSV(header: [String], rows: [[TableCell]]) {
    print(header.map { TableCell.text($0).csv }.joined(separator: ","))
    for r in rows { print(r.map(\.csv).joined(separator: ",")) }
}
