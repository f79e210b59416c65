import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT (Ctrl-C) and SIGTERM as an awaitable event, so that a command that
/// runs until interrupted (`audit --follow`) ends through cancellation, shuts
/// its client down and exits 0, instead of dying by the signal.
enum InterruptSignal {
    /// Returns when SIGINT or SIGTERM arrives, or when the task is cancelled.
    static func wait() async {
        // The default actions must not run: the signals are delivered to the
        // dispatch sources instead.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        for source in sources { source.cancel() }
        continuation.finish()
    }
}
