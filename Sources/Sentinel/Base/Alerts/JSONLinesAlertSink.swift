import Resilience

#if canImport(Glibc)
import Glibc
#endif

/// Appends each alert as one JSON line (sorted keys) to a file.
///
/// ```json
/// {"fields":{"p99":0.84},"message":"p99 jumped","severity":"warning","source":"script:anomaly","time":"2026-11-23T18:45:00.123Z"}
/// ```
public final class JSONLinesAlertSink: AlertSink {
    public let path: String
    private let descriptor: Locked<Int32>

    /// Opens (creating) `path` for appending.
    public init(path: String) throws(ConfigurationError) {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigurationError(file: path, message: "cannot open the alert file: \(String(cString: strerror(errno)))")
        }
        descriptor = Locked(fd)
    }

    deinit {
        descriptor.withLock { _ = close($0) }
    }

    public func send(_ alert: Alert) async {
        var line = Array(alert.jsonValue.jsonString().utf8)
        line.append(UInt8(ascii: "\n"))
        descriptor.withLock { fd in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 { if errno == EINTR { continue } else { break } }
                    offset += written
                }
            }
        }
    }
}

/// Keeps alerts in memory (for tests and the simulator).
public final class MemoryAlertSink: AlertSink {
    private let storage = Locked<[Alert]>([])
    public init() {}
    public func send(_ alert: Alert) async { storage.withLock { $0.append(alert) } }
    public var alerts: [Alert] { storage.withLock { $0 } }
}
