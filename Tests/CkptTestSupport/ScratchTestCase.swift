import Foundation
import XCTest

/// A test case with a fresh temporary folder, `scratch`, removed after each test.
open class ScratchTestCase: XCTestCase {
    public var scratch = ""

    open override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "ckpt-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
