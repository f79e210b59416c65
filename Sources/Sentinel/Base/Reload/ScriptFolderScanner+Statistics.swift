extension ScriptFolderScanner {
    /// What the scanner has done since it was made, for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        /// Scans committed.
        public var scans = 0
        /// Script files read in full (refused and vanished files not counted).
        public var filesRead = 0
        /// Bytes read from script files. A file refused for its size adds nothing.
        public var bytesRead = 0
        /// Scans that found another scan had committed while they read, and read again.
        public var lostRaces = 0

        /// All zero.
        public init() {}
    }
}
