/// A naming layout: `native` (ckpt's canonical names), the layouts ckpt writes (`hf`, `tf`,
/// `keras`), or any other a family's table names tensors in (`openai`, a release's names...).
/// Typed, so code compares `.native` rather than string literals; tables define the rest.
public struct Layout: RawRepresentable, Hashable, Sendable, Comparable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// ckpt's canonical names, TF orientation.
    public static let native = Layout("native")
    /// Hugging Face transformers' names and orientation.
    public static let hf = Layout("hf")
    /// A TF checkpoint under the original release's names.
    public static let tf = Layout("tf")
    /// bert4keras' Keras HDF5 (`save_weights`) layer and weight names.
    public static let keras = Layout("keras")
    /// llama.cpp's GGUF names (`blk.N.attn_q.weight`), PyTorch orientation.
    public static let gguf = Layout("gguf")

    public var description: String { rawValue }
    public static func < (a: Layout, b: Layout) -> Bool { a.rawValue < b.rawValue }
}
