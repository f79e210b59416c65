#if canImport(Glibc)
import Glibc
#endif

/// A serial executor that runs its jobs on one dedicated thread.
///
/// Lua evaluations are synchronous and may run up to their deadline; on the
/// cooperative pool (two threads on these machines) a script at its limit
/// would starve request handling. The ``ScriptEngine`` actor runs here
/// instead, so Lua never occupies a pool thread.
public final class LuaThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // @unchecked: `queue` is only touched with `mutex` held.
    private var queue: [UnownedJob] = []
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Starts the thread. It lives as long as the process (executors are long-lived).
    public init() {
        condition = .allocate(capacity: 1)
        mutex = .allocate(capacity: 1)
        pthread_cond_init(condition, nil)
        pthread_mutex_init(mutex, nil)
        let unmanaged = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { context in
                let executor = Unmanaged<LuaThreadExecutor>.fromOpaque(context!).takeRetainedValue()
                executor.loop()
                return nil
            }, unmanaged.toOpaque())
        precondition(status == 0, "cannot start the Lua thread: pthread_create returned \(status)")
        pthread_detach(thread)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(mutex)
        queue.append(unowned)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty { pthread_cond_wait(condition, mutex) }
            let jobs = queue
            queue.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(mutex)
            for job in jobs {
                job.runSynchronously(
                    isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
        }
    }
}
