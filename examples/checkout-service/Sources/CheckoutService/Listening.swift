import Foundation
import NIOCore

/// Writes `NAME listening on http://HOST:PORT` on standard output at once, for
/// the scripts that start these processes on port 0 and wait for their address.
func announceListening(_ name: String, _ channel: any Channel) {
    guard let port = channel.localAddress?.port, let host = channel.localAddress?.ipAddress else { return }
    writeLine("\(name) listening on http://\(host):\(port)")
}

/// One line on standard output, unbuffered.
func writeLine(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(1, $0, strlen($0)) }
}

/// One line on standard error, unbuffered.
func writeError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
