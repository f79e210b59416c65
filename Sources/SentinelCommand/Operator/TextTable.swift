/// Rows printed as aligned columns under an upper-case header.
///
/// ```
/// NAME                          VALUE  SHADOW
/// checkout.retry.max_attempts   3      -
/// checkout.timeout.duration     0.25   0.5
/// ```
///
/// Columns are separated by two spaces and padded to their widest cell
/// (counted in characters); the last column is not padded, so no line ends
/// in spaces.
struct TextTable: Sendable {
    let header: [String]
    private(set) var rows: [[String]] = []

    init(_ header: [String]) { self.header = header }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    mutating func append(_ row: [String]) {
        rows.append((0..<header.count).map { $0 < row.count ? row[$0] : "" })
    }

    /// The header and rows, one string per line.
    var lines: [String] {
        let all = [header] + rows
        let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                line += cell
                if column < row.count - 1 {
                    line += String(repeating: " ", count: widths[column] - cell.count)
                }
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
