import CBLASLoader
import CkptCore
import CkptFormats
import CkptMappings

/// What `ckpt --version` reports: the release, the commit it was built from, and the OpenBLAS
/// and libhdf5 actually in use (loaded on demand, so only this command pays for it).
public enum LibraryVersions {
    public static let release = "0.3.0"

    public static var text: String {
        """
        ckpt \(release) (commit \(BuildInfo.commit))
        OpenBLAS: \(String(cString: ckpt_blas_config()).trimmingCharacters(in: .whitespaces))
        libhdf5: \(KerasH5Reader.libraryVersion)
        """
    }
}
