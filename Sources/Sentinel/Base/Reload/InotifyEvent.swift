/// One event read from an inotify descriptor.
struct InotifyEvent: Sendable, Hashable {
    /// The watch descriptor (-1 for `IN_Q_OVERFLOW`).
    var descriptor: Int32
    /// The `IN_*` bits.
    var mask: UInt32
    /// The entry name inside the watched folder; nil for events about the
    /// folder itself.
    var name: String?

    /// The fixed part of `struct inotify_event`: `wd`, `mask`, `cookie`, `len`.
    static let headerSize = 16

    /// Parses the events in `buffer`, as `read(2)` on an inotify descriptor
    /// returns them: each a 16-byte header and `len` bytes of NUL-padded name.
    /// A truncated trailing event (which the kernel never produces) is dropped.
    static func parse(_ buffer: UnsafeRawBufferPointer) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        var offset = 0
        while offset + headerSize <= buffer.count {
            let descriptor = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            guard nameStart + length <= buffer.count else { break }
            var name: String?
            if length > 0 {
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[nameStart..<(nameStart + length)])
                let end = bytes.firstIndex(of: 0) ?? bytes.count
                name = String(decoding: bytes[..<end], as: UTF8.self)
            }
            events.append(InotifyEvent(descriptor: descriptor, mask: mask, name: name))
            offset = nameStart + length
        }
        return events
    }
}
