import Foundation
import PackagePlugin

/// Compiles the family tables in the package's top-level `Mappings/` folder into the target that
/// applies this plugin, as Swift string literals: the tables are data, edited as files, yet the
/// binary never looks a path up at run time.
@main
struct EmbedMappings: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "Mappings")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMappings.swift")
        let tool = try context.tool(named: "EmbedMappingsTool").url
        // The commit `--version` names: from .git/HEAD and the file its ref lives in, both inputs,
        // so a new commit rebuilds it (no git command runs; a tree without .git says "unknown").
        let git = context.package.directoryURL.appending(path: ".git")
        let head = git.appending(path: "HEAD")
        var gitFiles = FileManager.default.fileExists(atPath: head.path) ? [head] : []
        if let text = try? String(contentsOf: head, encoding: .utf8), text.hasPrefix("ref: ") {
            let ref = git.appending(path: text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines))
            let packed = git.appending(path: "packed-refs")
            gitFiles += [ref, packed].filter { FileManager.default.fileExists(atPath: $0.path) }
        }
        let info = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) mapping tables",
                executable: tool,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]),
            .buildCommand(
                displayName: "Recording the commit",
                executable: tool,
                arguments: ["--build-info", info.path, git.path],
                inputFiles: gitFiles,
                outputFiles: [info]),
        ]
    }
}
