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
