import CkptCore
import CkptFormats
@testable import CkptMappings
import Foundation
import CkptTestSupport
import XCTest

final class DetectionTests: XCTestCase {
    static let fixtures = Fixtures.root

    static let families = Fixtures.families

    func testEveryFamilyHasOneTableWithAUniqueName() {
        let names = MappingTable.builtIn.map(\.family)
        XCTAssertEqual(names.sorted(), Self.families.sorted())
        XCTAssertEqual(Set(names).count, names.count)
    }

    /// bert4keras' own Keras files name their family unambiguously.
    func testKerasFilesAreDetectedAsTheirFamily() throws {
        for family in Self.families {
            let r = try KerasH5Reader(path: Self.fixtures + "/families/\(family)/model.weights.h5")
            XCTAssertEqual(
                ArchitectureDetector().detect(r.tensors.map(\.name)), .family(family, layout: "keras"), family)
        }
    }

    /// TF checkpoints carry the release's names: NEZHA and RoFormer share all of them, and
    /// ALBERT_Unshared is loaded from ALBERT's release, so those are reported as such.
    func testTFCheckpointsAreDetectedFromReleaseNames() throws {
        let expected: [String: DetectedArchitecture] = [
            "nezha": .ambiguous(["nezha", "roformer"], layout: "tf"),
            "roformer": .ambiguous(["nezha", "roformer"], layout: "tf"),
            "albert_unshared": .family("albert", layout: "tf"),
        ]
        for family in Self.families {
            let r = try TFBundleReader(path: Self.fixtures + "/families/\(family)")
            XCTAssertEqual(
                ArchitectureDetector().detect(r.tensors.map(\.name)), expected[family] ?? .family(family, layout: "tf"),
                family)
        }
    }

    func testUnrelatedNamesAreUnknown() {
        XCTAssertEqual(ArchitectureDetector().detect(["a", "b/c"]), .unknown)
        XCTAssertEqual(ArchitectureDetector().detect([]), .unknown)
    }
}

/// The tables themselves: no two rules of a family produce the same name in any layout (fused
/// parts aside), every layout name is a valid template, and vocabulary axes exist.
final class TableConsistencyTests: XCTestCase {
    func testNamesAreUniquePerLayout() {
        for table in MappingTable.builtIn {
            var seen: [String: Set<String>] = [:]
            for rule in table.rules {
                for layer in [0, 1] {
                    let native = LayerTemplate.expand(rule.native, layer: layer)
                    XCTAssertTrue(
                        seen["native", default: []].insert(native).inserted
                            || !LayerTemplate.hasIndex(rule.native) && layer == 1,
                        "\(table.family): native \(native) twice")
                    for (layout, name) in rule.layouts where name.part == nil {
                        let expanded = LayerTemplate.expand(name.template, layer: layer)
                        let fresh = seen[layout.rawValue, default: []].insert(expanded).inserted
                        // ALBERT_Unshared reads every layer from ALBERT's one shared layer.
                        XCTAssertTrue(
                            fresh
                                || !LayerTemplate.hasIndex(name.template)
                                    && (layer == 1 || table.family == "albert_unshared"),
                            "\(table.family): \(layout) name \(expanded) twice")
                    }
                }
            }
        }
    }

    func testLayerTemplates() {
        XCTAssertEqual(LayerTemplate.expand("newslm/layer{i:02}/x", layer: 3), "newslm/layer03/x")
        XCTAssertEqual(LayerTemplate.expand("encoder/block_{i:03}/y", layer: 11), "encoder/block_011/y")
        XCTAssertEqual(LayerTemplate.expand("h{i}.{i}", layer: 12), "h12.12")
        XCTAssertEqual(LayerTemplate.expand("no index", layer: 5), "no index")
    }
}
