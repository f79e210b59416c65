#if canImport(Glibc)
import Dispatch
import Glibc

/// An inotify instance whose events are read by a Dispatch read source, so
/// waiting for them costs no thread of the Swift cooperative pool and no
/// wake-up while nothing happens (the descriptor sits in Dispatch's epoll set).
///
/// Owned by one run of ``ScriptFolderWatcher``: made, used and stopped by its
/// loop. Only the event handler runs elsewhere (on the Dispatch queue), and
/// it touches nothing but the descriptor number and the delivery closure.
final class InotifyMonitor {
    /// The events watched on each folder: everything that can change which
    /// scripts exist or what they contain, and the folder's own end.
    static let watchMask: UInt32 =
        UInt32(IN_CREATE) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MODIFY) | UInt32(IN_MOVED_TO)
        | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF)
        | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    let descriptor: Int32
    private var source: (any DispatchSourceRead)?
    private var stopped = false

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Makes an inotify instance, or returns the `errno` of `inotify_init1`
    /// (`EMFILE` when the per-user instance limit is reached, `ENOSYS`
    /// where the kernel lacks inotify).
    static func make() -> Result<InotifyMonitor, ScriptFileReader.ReadFailure> {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { return .failure(.init(code: errno)) }
        return .success(InotifyMonitor(descriptor: descriptor))
    }

    /// Watches `folder`; returns the watch descriptor or the `errno`
    /// (`ENOENT`: missing; `ENOTDIR`: not a folder; `ENOSPC`: the
    /// `max_user_watches` limit is reached; `EACCES`: no permission).
    func addWatch(_ folder: String) -> Result<Int32, ScriptFileReader.ReadFailure> {
        let watch = inotify_add_watch(descriptor, folder, Self.watchMask)
        return watch >= 0 ? .success(watch) : .failure(.init(code: errno))
    }

    /// Removes a watch. The kernel answers with `IN_IGNORED` for it.
    func removeWatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor, watch)
    }

    /// Starts reading events on `queue` and hands each read's events to `deliver`.
    func startReading(on queue: DispatchQueue, deliver: @escaping @Sendable ([InotifyEvent]) -> Void) {
        let descriptor = self.descriptor
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler {
            // Drain everything queued: one handler call per readiness, not per event.
            let capacity = 64 * 1024
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
            defer { buffer.deallocate() }
            var events: [InotifyEvent] = []
            while true {
                let count = read(descriptor, buffer.baseAddress, capacity)
                if count > 0 {
                    events += InotifyEvent.parse(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break  // EAGAIN: drained
                }
            }
            if !events.isEmpty { deliver(events) }
        }
        // The descriptor is closed only once Dispatch no longer watches it.
        source.setCancelHandler { _ = close(descriptor) }
        self.source = source
        source.resume()
    }

    /// Stops reading and closes the descriptor (after Dispatch let go of it).
    func stop() {
        guard !stopped else { return }
        stopped = true
        if let source {
            source.cancel()
        } else {
            _ = close(descriptor)
        }
    }

    deinit {
        stop()
    }
}
#endif
