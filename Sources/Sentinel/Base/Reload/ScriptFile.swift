/// One script file as the scanner read it: where it is, its name, its bytes
/// and their digest.
///
/// The scanner hands bytes, not text: whether they are valid UTF-8 and valid
/// Lua is for the engine to decide when it compiles the script.
///
/// Two folders may each hold a file with the same ``name``; the scanner
/// reports both (their ``path``s differ) and the engine decides which runs.
public struct ScriptFile: Sendable, Hashable {
    /// The display path: the folder as it was given to the scanner, a slash,
    /// and the file name, for example `policies/retry.lua`.
    ///
    /// It names the directory entry, not the file a symbolic link points to,
    /// so a Kubernetes ConfigMap file keeps its path when `..data` is swapped.
    public let path: String

    /// The file name without the `.lua` extension, for example `retry`.
    public let name: String

    /// The file's bytes, at most the scanner's `maximumFileSize`.
    public let contents: [UInt8]

    /// The FNV-1a 64 digest of ``contents``.
    public let digest: ScriptDigest

    /// Makes a script file and computes the digest of `contents`.
    public init(path: String, name: String, contents: [UInt8]) {
        self.path = path
        self.name = name
        self.contents = contents
        self.digest = ScriptDigest(of: contents)
    }

    /// Two files are equal when their paths, names and bytes are.
    public static func == (lhs: ScriptFile, rhs: ScriptFile) -> Bool {
        // The digest check first: it settles almost every unequal pair
        // without comparing up to a mebibyte of bytes.
        lhs.digest == rhs.digest && lhs.path == rhs.path && lhs.name == rhs.name && lhs.contents == rhs.contents
    }

    /// Hashes the path, name and digest (the digest stands for the bytes).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(name)
        hasher.combine(digest)
    }
}
