#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` because ThreadSanitizer cannot see
/// `Mutex`'s lock on Linux (its futex fast path lives in an uninstrumented
/// library), so every access it protects is reported as a race; the pthread
/// calls are intercepted by TSan, so `swift test --sanitize=thread` checks the
/// real synchronization. Critical sections stay short: a few field updates.
public final class Locked<State>: @unchecked Sendable {
    // @unchecked: `state` is only touched between pthread_mutex_lock and unlock.
    // The state lives behind a pointer rather than in a stored `var` so that the
    // lock, not a dynamic exclusivity check per access, guarantees exclusive access.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let state: UnsafeMutablePointer<State>

    /// Makes a lock around `state`.
    public init(_ state: State) {
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: state)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    @inline(__always)
    public func withLock<Result, Failure: Error>(_ body: (inout State) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }
}
