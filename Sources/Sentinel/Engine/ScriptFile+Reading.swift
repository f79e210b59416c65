extension ScriptFile {
    /// Reads one script file with the watcher's safety checks (regular files
    /// only, never blocking on a FIFO, a size cap).
    public static func read(path: String, maximumFileSize: Int = 1 << 20) -> Result<ScriptFile, ScriptFailure> {
        switch ScriptFileReader(maximumFileSize: maximumFileSize).read(path: path) {
        case .contents(let bytes):
            let name = ScriptInstance.defaultName(path)
            return .success(ScriptFile(path: path, name: name, contents: bytes))
        case .unreadable(let reason):
            return .failure(ScriptFailure(path: path, message: reason))
        case .missing:
            return .failure(ScriptFailure(path: path, message: "no such file"))
        }
    }
}
