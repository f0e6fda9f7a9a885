import CkptCore
import CkptMappings
import Foundation

/// What `inspect` shows, gathered once and rendered as a table or JSON.
struct InspectReport {
    struct Row {
        let info: TensorInfo
        let stats: TensorStatistics?
    }

    let format: String
    let path: String
    let architecture: DetectedArchitecture
    let rows: [Row]
    let withStats: Bool
    /// Names stored as the very data of an earlier name (tied weights a `.bin` holds twice).
    let aliases: [String: String]
    /// The format's own records (`--all`).
    let details: [(key: String, value: String)]

    init(
        source: any TensorSource, includeBookkeeping: Bool, filter: String?, withStats: Bool,
        tables: [MappingTable] = MappingTable.builtIn, config: ModelConfig? = nil
    ) throws {
        format = source.formatName
        path = source.path
        // Detection looks at the whole checkpoint, not just the filtered rows, and at the config
        // beside it, as convert does.
        let detector = ArchitectureDetector(tables: tables)
        let names = source.tensors.map(\.name) + source.tensors.compactMap(\.groupKey)
        architecture = detector.decide(detector.detect(names), config: config, names: Set(names))
        var rows: [Row] = []
        for t in source.tensors where includeBookkeeping || !t.isBookkeeping {
            if let filter, !NameFilter.matches(filter, t.name) { continue }
            var s: TensorStatistics?
            if withStats && t.dtype.isFloatingPoint {
                s = try source.withBytes(of: t) { TensorStatistics.of($0, dtype: t.dtype) }
            }
            rows.append(Row(info: t, stats: s))
        }
        self.rows = rows
        self.withStats = withStats
        aliases = source.aliases
        details = includeBookkeeping ? source.details : []
    }

    /// Parameters as stored: an alias of another tensor adds none.
    var totalParameters: Int { rows.filter { aliases[$0.info.name] == nil }.reduce(0) { $0 + $1.info.elementCount } }
    /// Optimizer slots (Adam's m and v...) and step counters: listed, but not the model's parameters.
    var optimizerParameters: Int {
        rows.filter { OptimizerSlots.isSlot($0.info.name) }.reduce(0) { $0 + $1.info.elementCount }
    }
    var modelParameters: Int { totalParameters - optimizerParameters }
    var totalBytes: Int { rows.filter { aliases[$0.info.name] == nil }.reduce(0) { $0 + $1.info.byteCount } }

    var architectureText: String {
        switch architecture {
        case .family(let f, let layout): return "\(f) (\(layout) names)"
        case .ambiguous(let fs, _): return "ambiguous: \(fs.joined(separator: ", ")) (give --model or a config)"
        case .unknown: return "unknown"
        }
    }

    func table() -> String {
        var header = ["NAME", "DTYPE", "SHAPE", "PARAMETERS"]
        if withStats { header += ["MIN", "MAX", "MEAN", "STD", "NAN", "INF"] }
        var lines: [[String]] = [header]
        for r in rows {
            let name = aliases[r.info.name].map { "\(r.info.name) (= \($0))" } ?? r.info.name
            var line = [
                name, r.info.dtype.rawValue, ShapeMath.describe(r.info.shape), Self.grouped(r.info.elementCount),
            ]
            if withStats {
                if let s = r.stats {
                    line += [
                        Self.num(s.finiteCount > 0 ? s.min : nil), Self.num(s.finiteCount > 0 ? s.max : nil),
                        Self.num(s.mean), Self.num(s.std), String(s.nanCount), String(s.infCount),
                    ]
                } else {
                    line += ["-", "-", "-", "-", "-", "-"]
                }
            }
            lines.append(line)
        }
        // Widths in Unicode scalars and plain appends: Foundation's padding and trimming bridge
        // every cell through UTF-16, which was a third of `inspect`'s time on 600 tensors.
        let widths = header.indices.map { c in lines.map { $0[c].unicodeScalars.count }.max()! }
        var out = "format: \(format)\npath: \(path)\narchitecture: \(architectureText)\n"
        for d in details { out += "  \(d.key): \(d.value)\n" }
        out += "\n"
        for line in lines {
            var text = ""
            for (c, cell) in line.enumerated() {
                if c > 0 { text += "  " }
                let pad = String(repeating: " ", count: widths[c] - cell.unicodeScalars.count)
                text += c <= 2 ? cell + pad : pad + cell  // name, dtype, shape left-aligned; numbers right-aligned
            }
            while text.utf8.last == 0x20 { text.removeLast() }
            out += text + "\n"
        }
        let optimizer = optimizerParameters > 0 ? " (+ \(Self.grouped(optimizerParameters)) in optimizer state)" : ""
        let parameters = "\(Self.grouped(modelParameters)) parameters\(optimizer)"
        out += "\n\(rows.count) tensors, \(parameters), \(Self.bytes(totalBytes))\n"
        if !aliases.isEmpty {
            out += "(= NAME): the same data as NAME, stored once; counted once (\(aliases.count) tied)\n"
        }
        return out
    }

    func json() -> String {
        var tensors: [[String: Any]] = []
        for r in rows {
            var t: [String: Any] = [
                "name": r.info.name, "dtype": r.info.dtype.rawValue, "shape": r.info.shape,
                "bytes": r.info.byteCount,
            ]
            if let owner = aliases[r.info.name] { t["alias_of"] = owner }
            if let s = r.stats {
                t["stats"] =
                    [
                        "min": s.finiteCount > 0 ? s.min : NSNull(), "max": s.finiteCount > 0 ? s.max : NSNull(),
                        "mean": s.mean ?? NSNull(), "std": s.std ?? NSNull(),
                        "nan_count": s.nanCount, "inf_count": s.infCount,
                    ] as [String: Any]
            }
            tensors.append(t)
        }
        var object: [String: Any] = [
            "schema_version": 1, "format": format, "path": path, "architecture": architecture.name,
            "architecture_candidates": architecture.candidates,
            "total_parameters": totalParameters, "model_parameters": modelParameters,
            "optimizer_parameters": optimizerParameters, "total_bytes": totalBytes, "tensors": tensors,
        ]
        if !details.isEmpty {
            object["details"] = Dictionary(details.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        return JSONDocument.text(object)
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@ (%d bytes)", v, units[u], n)
    }

    static func num(_ v: Double?) -> String {
        guard let v else { return "-" }
        return String(format: "%.6g", v)
    }
}
