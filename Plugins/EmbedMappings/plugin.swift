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
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) mapping tables",
                executable: try context.tool(named: "EmbedMappingsTool").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
