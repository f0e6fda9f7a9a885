/// The one error type of ckpt's libraries. It reaches the user as a single line naming the file,
/// the tensor when one is known, and what was expected (see `description`).
public struct CkptError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, one case per kind of failure, so tests and callers can match on it.
    public enum Kind: String, Sendable {
        /// The path does not exist or cannot be opened.
        case fileNotFound
        /// A read or map of the file failed at the OS level.
        case ioFailure
        /// The file ends before a structure it declares (footer, block, header, tensor data).
        case truncated
        /// The file does not start or end with the signature its format requires.
        case badMagic
        /// A stored checksum does not match the bytes.
        case checksumMismatch
        /// An offset or length points outside the file, or overlaps another tensor.
        case outOfBounds
        /// A dtype code or name that ckpt does not know.
        case unknownDType
        /// A header declares a size above the format's cap.
        case headerTooLarge
        /// A header or index is present but not well formed (bad JSON, bad protobuf, bad varint...).
        case malformed
        /// A tensor's byte count does not match dtype × shape.
        case sizeMismatch
        /// A name that is not valid UTF-8, or a path that leaves its folder.
        case invalidName
        /// A well-formed feature that ckpt deliberately does not read (snappy blocks, big-endian bundles...).
        case unsupported
        /// A tensor asked for is not in the source.
        case tensorNotFound
        /// The path exists but is no format ckpt reads.
        case unknownFormat
        /// The request itself is wrong whatever the files hold (an output that would overwrite an
        /// input, an unknown family name, options that cannot go together): the CLI exits 2.
        case badUsage
    }

    public let kind: Kind
    public let file: String?
    public let tensor: String?
    public let detail: String

    public init(_ kind: Kind, file: String? = nil, tensor: String? = nil, _ detail: String) {
        self.kind = kind
        self.file = file
        self.tensor = tensor
        self.detail = detail
    }

    /// `FILE: tensor 'NAME': DETAIL`, with the parts that are known.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let tensor { parts.append("tensor '\(tensor)'") }
        parts.append(detail)
        return parts.joined(separator: ": ")
    }

    /// The same error with the file and tensor filled in where the thrower did not know them.
    public func with(file: String? = nil, tensor: String? = nil) -> CkptError {
        CkptError(kind, file: self.file ?? file, tensor: self.tensor ?? tensor, detail)
    }
}
