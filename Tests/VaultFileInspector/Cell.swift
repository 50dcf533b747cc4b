package import Foundation

/// One stored value of a vault file, as SQLite holds it, without the tests naming GRDB's types.
package enum Cell: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    package var int: Int64? { if case .integer(let n) = self { n } else { nil } }
    package var text: String? { if case .text(let s) = self { s } else { nil } }
    package var data: Data? { if case .blob(let d) = self { d } else { nil } }
    package var bytes: [UInt8]? { data.map { [UInt8]($0) } }
    package var bool: Bool? { int.map { $0 != 0 } }
    package var isNull: Bool { self == .null }

    package var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let n): "\(n)"
        case .real(let d): "\(d)"
        case .text(let s): "'\(s)'"
        case .blob(let d): "<\(d.count) bytes>"
        }
    }
}

/// A Swift value the inspector can store: integers, text, bytes, booleans, or a `Cell`.
package protocol CellConvertible: Sendable {
    var cell: Cell { get }
}

extension Cell: CellConvertible { package var cell: Cell { self } }
extension Int64: CellConvertible { package var cell: Cell { .integer(self) } }
extension Int: CellConvertible { package var cell: Cell { .integer(Int64(self)) } }
extension Bool: CellConvertible { package var cell: Cell { .integer(self ? 1 : 0) } }
extension Double: CellConvertible { package var cell: Cell { .real(self) } }
extension String: CellConvertible { package var cell: Cell { .text(self) } }
extension Data: CellConvertible { package var cell: Cell { .blob(self) } }
extension Array: CellConvertible where Element == UInt8 { package var cell: Cell { .blob(Data(self)) } }
extension Optional: CellConvertible where Wrapped: CellConvertible { package var cell: Cell { self?.cell ?? .null } }

/// What a column of the rows a filter picks must satisfy. A literal means "equals".
package enum Condition: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case equal(Cell)
    case notEqual(Cell)
    case greaterOrEqual(Cell)
    case greater(Cell)
    case less(Cell)
    case member([Cell])
    case null
    case notNull

    package static func `is`(_ value: some CellConvertible) -> Condition { value.cell == .null ? .null : .equal(value.cell) }
    package static func not(_ value: some CellConvertible) -> Condition { .notEqual(value.cell) }
    package static func atLeast(_ value: some CellConvertible) -> Condition { .greaterOrEqual(value.cell) }
    package static func above(_ value: some CellConvertible) -> Condition { .greater(value.cell) }
    package static func below(_ value: some CellConvertible) -> Condition { .less(value.cell) }
    package static func oneOf(_ values: [some CellConvertible]) -> Condition { .member(values.map(\.cell)) }

    package init(stringLiteral value: String) { self = .equal(.text(value)) }
    package init(integerLiteral value: Int64) { self = .equal(.integer(value)) }
}

/// Column conditions, all of which a row must meet (an empty filter picks every row).
package typealias Filter = [String: Condition]

/// One row read from the file: its columns in table order, and their values.
package struct FileRow: Hashable, Sendable, CustomStringConvertible {
    package let columns: [String]
    package let cells: [Cell]

    package subscript(_ column: String) -> Cell {
        columns.firstIndex(of: column).map { cells[$0] } ?? .null
    }

    package var description: String { zip(columns, cells).map { "\($0)=\($1)" }.joined(separator: " ") }
}
