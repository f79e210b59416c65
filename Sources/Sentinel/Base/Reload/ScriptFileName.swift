/// Which directory entries are scripts, and which file-system events can
/// concern one.
///
/// Only `NAME.lua` counts, and never a hidden entry (one starting with `.`).
/// That one rule leaves out what editors and tools put beside a file while
/// saving it: `x.lua~` and `#x.lua#` (backups, auto-saves), `.x.lua.swp`
/// (Vim swap), `4913` (Vim's probe file), `x.lua.tmp` (write-then-rename),
/// `.#x.lua` (Emacs lock), and the `..data` and `..2024_...` entries of a
/// Kubernetes ConfigMap volume.
enum ScriptFileName {
    static let fileExtension = ".lua"

    /// The script name for a directory entry (`retry` for `retry.lua`), or
    /// nil when the entry is not a script.
    static func scriptName(forEntry entry: String) -> String? {
        guard !entry.hasPrefix("."), entry.hasSuffix(fileExtension) else { return nil }
        let name = String(entry.dropLast(fileExtension.count))
        return name.isEmpty ? nil : name
    }

    /// Whether an event about `entry` in a watched folder may change what a
    /// scan finds.
    ///
    /// Script names matter, and so do the `..`-prefixed entries, because a
    /// ConfigMap update is a rename of `..data`: no event names a `.lua` file
    /// then. Everything else (swap files written every few seconds while an
    /// editor is open, temporary files) is skipped so that it costs no scan;
    /// the rename of a temporary file onto `x.lua` is an event about `x.lua`.
    static func mayConcernScripts(entry: String) -> Bool {
        scriptName(forEntry: entry) != nil || entry.hasPrefix("..")
    }

    /// The display path of `entry` in `folder`: the folder as given (without
    /// trailing slashes), a slash, and the entry.
    static func displayPath(folder: String, entry: String) -> String {
        folder.hasSuffix("/") ? folder + entry : folder + "/" + entry
    }

    /// `folder` without trailing slashes, except that `/` stays `/`.
    static func normalizedFolder(_ folder: String) -> String {
        var result = Substring(folder)
        while result.count > 1, result.hasSuffix("/") { result = result.dropLast() }
        return String(result)
    }
}
