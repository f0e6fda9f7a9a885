import CkptCore
import CkptMappings
import Foundation

/// The human summary (stderr) and JSON report (stdout, `--json`) of a conversion.
struct ConvertSummary {
    let setup: ConversionSetup
    let result: ConversionResult

    var droppedBytes: Int { result.dropped.reduce(0) { $0 + $1.tensor.byteCount } }

    func text() -> String {
        let plan = setup.plan
        var lines = [
            "converted \(setup.source.path) (\(setup.source.formatName), \(plan.family), \(plan.sourceLayout) names) "
                + "-> \(result.outputPath) (\(plan.targetLayout))"
        ]
        lines.append(
            "  wrote \(result.tensorsWritten) tensors, \(result.bytesWritten) bytes in "
                + "\(result.files.joined(separator: ", ")) in \(String(format: "%.2f", result.seconds)) s"
        )
        var byReason: [String: (Int, Int)] = [:]
        for d in result.dropped {
            let r = byReason[d.reason.rawValue] ?? (0, 0)
            byReason[d.reason.rawValue] = (r.0 + 1, r.1 + d.tensor.byteCount)
        }
        for (reason, (n, bytes)) in byReason.sorted(by: { $0.key < $1.key }) {
            lines.append("  dropped \(n) tensors (\(reason)), \(bytes) bytes saved")
        }
        if !plan.unmapped.isEmpty {
            lines.append("  kept \(plan.unmapped.count) unmapped tensors under their own names")
        }
        if let call = Bert4kerasCall.text(plan, output: result.outputPath, files: result.files) {
            lines.append("  bert4keras: \(call)")
        }
        lines += Bert4kerasCall.notes(setup).map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }

    func json(extra: [String: Any] = [:]) -> String {
        var object: [String: Any] = [
            "schema_version": 1, "source": setup.source.path, "source_format": setup.source.formatName,
            "family": setup.plan.family,
            "source_layout": setup.plan.sourceLayout.rawValue, "layout": setup.plan.targetLayout.rawValue,
            "output": result.outputPath,
            "files": result.files, "tensors_written": result.tensorsWritten, "bytes_written": result.bytesWritten,
            "dropped": result.dropped.map {
                ["name": $0.tensor.name, "reason": $0.reason.rawValue, "bytes": $0.tensor.byteCount] as [String: Any]
            },
            "dropped_bytes": droppedBytes, "unmapped_kept": setup.plan.unmapped.map(\.name), "seconds": result.seconds,
        ]
        object.merge(extra) { _, new in new }
        return String(JSONDocument.text(object).dropLast())
    }
}
