/// Writes RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled.
///
/// Cells are also neutralised for spreadsheets (OWASP's CSV injection rule): a cell that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula in Excel, LibreOffice
/// or Google Sheets, so it gets a leading apostrophe, which spreadsheets show as text. A cell that
/// already starts with an apostrophe gets one more, so ``CSVFormula/restore(_:)`` (used by every
/// import) gives back exactly the original value.
package enum CSVWriter {
    package static func line(_ fields: [String]) -> String {
        fields.map { quote(CSVFormula.neutralise($0)) }.joined(separator: ",") + "\n"
    }

    package static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || field.hasPrefix(" ") || field.hasSuffix(" ") else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The apostrophe that keeps a CSV cell from running as a spreadsheet formula.
package enum CSVFormula {
    /// First characters a spreadsheet treats as the start of a formula (and the apostrophe itself,
    /// so that the escape can be undone without loss).
    package static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "'"]

    package static func neutralise(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, triggers.contains(first) else { return cell }
        return "'" + cell
    }

    /// Undoes ``neutralise(_:)``: an apostrophe followed by a trigger is dropped. Imports apply it
    /// to every cell, so a value of another tool's file that starts with `'=` (and the like) loses
    /// that apostrophe.
    package static func restore(_ cell: String) -> String {
        let scalars = cell.unicodeScalars
        guard scalars.first == "'", let second = scalars.dropFirst().first, triggers.contains(second) else { return cell }
        return String(String.UnicodeScalarView(scalars.dropFirst()))
    }
}
