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
            XCTAssertEqual(ArchitectureDetector().detect(r.tensors.map(\.name)), .family(family, layout: "keras"), family)
        }
    }

    /// TF checkpoints carry the release's names: NEZHA and RoFormer share all of them, and
    /// ALBERT_Unshared is loaded from ALBERT's release, so those are reported as such.
    func testTFCheckpointsAreDetectedFromReleaseNames() throws {
        let expected: [String: DetectedArchitecture] = [
            "nezha": .ambiguous(["nezha", "roformer"], layout: "tf"), "roformer": .ambiguous(["nezha", "roformer"], layout: "tf"),
            "albert_unshared": .family("albert", layout: "tf"),
        ]
        for family in Self.families {
            let r = try TFBundleReader(path: Self.fixtures + "/families/\(family)")
            XCTAssertEqual(ArchitectureDetector().detect(r.tensors.map(\.name)), expected[family] ?? .family(family, layout: "tf"), family)
        }
    }

    func testUnrelatedNamesAreUnknown() {
        XCTAssertEqual(ArchitectureDetector().detect(["a", "b/c"]), .unknown)
        XCTAssertEqual(ArchitectureDetector().detect([]), .unknown)
    }
}
