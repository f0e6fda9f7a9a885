import CkptCore
import Foundation

/// `inspect --tensor NAME [--values N|all]`: one tensor's dtype, shape, statistics and values.
struct TensorReport {
    let info: TensorInfo
    let stats: TensorStatistics?
    let values: [TensorValues.Value]
    /// String elements' bytes (a TF string tensor may hold any bytes).
    let strings: [[UInt8]]
    let total: Int

    /// - Parameter limit: how many values to show (nil: all).
    init(source: any TensorSource, name: String, limit: Int?) throws {
        guard let t = source.tensors.first(where: { $0.name == name }) else {
            let closest = NameFilter.closest(to: name, among: source.tensors.map(\.name))
            throw CkptError(
                .tensorNotFound, file: source.path, tensor: name,
                "no such tensor; closest names: \(closest.joined(separator: ", "))")
        }
        info = t
        if t.dtype == .string {
            let all = try source.strings(of: t)
            strings = Array(all.prefix(limit ?? all.count))
            (values, stats, total) = ([], nil, all.count)
        } else {
            (values, stats) = try source.withBytes(of: t) { b in
                (TensorValues.decode(b, dtype: t.dtype, limit: limit), TensorStatistics.of(b, dtype: t.dtype))
            }
            (strings, total) = ([], t.elementCount)
        }
    }

    var shown: Int { info.dtype == .string ? strings.count : values.count }

    func text() -> String {
        var lines = [
            "name: \(info.name)", "dtype: \(info.dtype.rawValue)", "shape: \(ShapeMath.describe(info.shape))",
            "parameters: \(info.elementCount)",
        ]
        if let s = stats {
            let range =
                s.finiteCount > 0 ? "min \(s.min), max \(s.max), mean \(s.mean!), std \(s.std!)" : "no finite value"
            lines.append("stats: \(range), \(s.nanCount) NaN, \(s.infCount) Inf")
        }
        let shownValues = info.dtype == .string ? strings.map(Self.quoted) : values.map(Self.describe)
        lines.append("values (\(shown) of \(total)): [\(shownValues.joined(separator: ", "))]")
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        var object: [String: Any] = [
            "schema_version": 1, "name": info.name, "dtype": info.dtype.rawValue, "shape": info.shape,
            "parameters": info.elementCount, "values_shown": shown, "values_total": total,
        ]
        let texts: [Any] = strings.map { String(decoding: $0, as: UTF8.self) }
        object["values"] = info.dtype == .string ? texts : values.map(Self.foundation)
        // Exact bytes for string tensors, which JSON text cannot always carry.
        if info.dtype == .string {
            object["values_hex"] = strings.map { $0.map { String(format: "%02x", $0) }.joined() }
        }
        if let s = stats {
            object["stats"] =
                [
                    "min": s.finiteCount > 0 ? s.min : NSNull(), "max": s.finiteCount > 0 ? s.max : NSNull(),
                    "mean": s.mean ?? NSNull(), "std": s.std ?? NSNull(), "nan_count": s.nanCount,
                    "inf_count": s.infCount,
                ] as [String: Any]
        }
        return JSONDocument.text(object)
    }

    static func describe(_ v: TensorValues.Value) -> String {
        switch v {
        case .real(let d): return String(format: "%.8g", d)
        case .integer(let i): return String(i)
        case .unsigned(let u): return String(u)
        }
    }

    /// A string element quoted, its bytes that are no UTF-8 text (or are control characters) as `\xNN`.
    static func quoted(_ bytes: [UInt8]) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return "b\""
                + bytes.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }
                .joined() + "\""
        }
        return "\""
            + text.unicodeScalars.map { $0.value < 32 ? String(format: "\\x%02x", $0.value) : String($0) }.joined()
            + "\""
    }

    static func foundation(_ v: TensorValues.Value) -> Any {
        switch v {
        case .real(let d): return d
        case .integer(let i): return i
        case .unsigned(let u): return NSNumber(value: u)
        }
    }
}
