import CkptCore
import CkptFormats
@testable import CkptMappings
import CkptTestSupport
import XCTest

/// The Keras writer's layer order against what Keras itself wrote: every fixture family's
/// model.weights.h5 (bert4keras save_weights), and the `model.layers` orders that
/// Fixtures/generate.py recorded from real bert4keras models across layer counts, heads and
/// dropout (Fixtures/keras_order/orders.json).
final class KerasLayerOrderTests: XCTestCase {
    func testFixtureFilesLayerOrder() throws {
        for family in Fixtures.families {
            let reader = try KerasH5Reader(path: Fixtures.path("families/\(family)/model.weights.h5"))
            let config = try ModelConfig(path: Fixtures.path("families/\(family)/config.json"))
            let table = try XCTUnwrap(MappingTable.named(family))
            let graph = try XCTUnwrap(table.kerasGraph, family)
            let facts = KerasGraph.Facts(
                layersWithWeights: Set(reader.tensors.compactMap(\.group)),
                dropout: KerasModelLayout.dropout(in: config), layerCount: config.layerCount ?? 0)
            XCTAssertEqual(try graph.layerOrder(facts), reader.layerNames, family)
        }
    }

    func testRecordedBert4kerasOrders() throws {
        let path = Fixtures.path("keras_order/orders.json")
        guard FileManager.default.fileExists(atPath: path) else { return XCTFail("missing \(path)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try JSONSerialization.jsonObject(with: data)
        let cases = try XCTUnwrap((root as? [String: Any])?["cases"] as? [[String: Any]] ?? root as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        var checked = 0
        for c in cases {
            // The writer builds the encoder application's graph; lm / unilm add mask layers without
            // weights, and must leave the order of the layers with weights as it is.
            let encoder = (c["application"] as? String ?? "encoder") == "encoder"
            let family = try XCTUnwrap(c["family"] as? String)
            let layers = try XCTUnwrap(c["layers"] as? [[String: Any]])
            let names = layers.map { $0["name"] as! String }
            let weighted = Set(
                layers.filter { ($0["weights"] as? [Any])?.isEmpty == false }.map { $0["name"] as! String })
            let graph = try XCTUnwrap(MappingTable.named(family)?.kerasGraph)
            let facts = KerasGraph.Facts(
                layersWithWeights: weighted, dropout: (c["dropout_rate"] as? Double ?? 0) > 0,
                layerCount: c["num_hidden_layers"] as! Int)
            let order = try graph.layerOrder(facts)
            let what =
                "\(family) \(c["num_hidden_layers"]!) layers, dropout \(c["dropout_rate"]!), "
                + "heads \(c["heads"] ?? [:]), \(c["application"] ?? "")"
            if encoder {
                XCTAssertEqual(order, names, what)
            } else {
                XCTAssertEqual(order.filter(weighted.contains), names.filter(weighted.contains), what)
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
    }
}
