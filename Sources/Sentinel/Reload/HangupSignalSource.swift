import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Calls a closure on each `SIGHUP`, through a Dispatch signal source.
///
/// On Linux, Dispatch installs its own handler for the signal when the first
/// source is made and leaves it installed after the source is cancelled, so
/// a `SIGHUP` after the watcher stopped is swallowed instead of ending the
/// process (the default action). On Darwin a source only sees the signal
/// when it is ignored, so it is set to `SIG_IGN` there.
final class HangupSignalSource {
    private let source: any DispatchSourceSignal

    init(queue: DispatchQueue, onSignal: @escaping @Sendable () -> Void) {
        #if canImport(Darwin)
        signal(SIGHUP, SIG_IGN)
        #endif
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler(handler: onSignal)
        source.resume()
    }

    /// Stops delivering signals.
    func stop() {
        source.cancel()
    }

    deinit {
        source.cancel()
    }
}
