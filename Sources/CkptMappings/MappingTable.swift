import CkptCore
import Foundation

/// One model family's table from `Mappings/<family>.json`, compiled into the binary.
///
/// For now it holds what architecture detection needs: per layout (`tf`, `keras`, `native`,
/// `hf`), the names a checkpoint of this family must hold (`require`) and must not hold
/// (`forbid`). Names may use `*` and `?` as in shell globs.
public struct MappingTable: Sendable, Decodable {
    public struct Signature: Sendable, Decodable {
        public let require: [String]
        public let forbid: [String]?
    }

    public let family: String
    public let description: String
    /// Layout name to the signature of that layout.
    public let detect: [String: Signature]

    /// Every table compiled in, sorted by family.
    public static let builtIn: [MappingTable] = {
        let decoder = JSONDecoder()
        return EmbeddedMappings.files.keys.sorted().map { name in
            do {
                return try decoder.decode(MappingTable.self, from: Data(EmbeddedMappings.files[name]!.utf8))
            } catch {
                // The tables are part of the source; a broken one is a build defect the tests catch.
                fatalError("Mappings/\(name) is not a valid mapping table: \(error)")
            }
        }
    }()

    public static func named(_ family: String) -> MappingTable? { builtIn.first { $0.family == family } }
}
