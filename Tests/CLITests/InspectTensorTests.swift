import CkptTestSupport
import Foundation
import XCTest

/// `inspect --tensor NAME --values all --json`: every value of every tensor of the all-dtypes TF
/// checkpoint, against the sums (and string bytes) NumPy computed of what TensorFlow wrote.
final class InspectTensorTests: XCTestCase {
    func testValuesOfEveryDtypeMatchNumPy() throws {
        let golden = try XCTUnwrap(
            try Fixtures.json(Fixtures.path("special/dtypes/golden.tf.json"))["variables"] as? [[String: Any]])
        XCTAssertGreaterThan(golden.count, 15)
        for v in golden {
            let name = v["name"] as! String
            let r = try CLI.run([
                "inspect", Fixtures.path("special/dtypes"), "--tensor", name, "--values", "all", "--json",
            ])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], name)
            XCTAssertEqual(o["dtype"] as? String, v["dtype"] as? String, name)
            XCTAssertEqual(o["shape"] as? [Int], v["shape"] as? [Int], name)
            let values = o["values"] as? [Any] ?? []
            if let hex = v["values_hex"] as? [String] {
                XCTAssertEqual(o["values_hex"] as? [String], hex, name)
                continue
            }
            let numbers = values.map { ($0 as? NSNumber)?.doubleValue ?? .nan }
            if let pair = v["sum"] as? [Any] {
                // complex: real and imaginary parts interleaved
                let re = stride(from: 0, to: numbers.count, by: 2).map { numbers[$0] }.reduce(0, +)
                let im = stride(from: 1, to: numbers.count, by: 2).map { numbers[$0] }.reduce(0, +)
                XCTAssertEqual(re, (pair[0] as? NSNumber)?.doubleValue ?? .nan, accuracy: 1e-9 * max(1, abs(re)), name)
                XCTAssertEqual(im, (pair[1] as? NSNumber)?.doubleValue ?? .nan, accuracy: 1e-9 * max(1, abs(im)), name)
            } else if let sum = (v["sum"] as? NSNumber)?.doubleValue {
                let ours = numbers.reduce(0, +)
                XCTAssertEqual(ours, sum, accuracy: 1e-9 * max(1, abs(sum)), name)
            }
        }
        // An unknown name: exit 1, one line, the closest names.
        let bad = try CLI.run(["inspect", Fixtures.path("special/dtypes"), "--tensor", "dtypes/float3"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("dtypes/float32"), bad.stderr)
    }
}
