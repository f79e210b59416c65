import ArgumentParser
import Logging
import Resilience
import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// `sentinel check PATH...`
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check meta-policy scripts without running them.",
        discussion: """
            Loads each script under the sandbox and its limits, checks the table it returns \
            (name, interval, evaluate, ...), and runs evaluate once against a sample state in \
            which every pipeline the script asks for exists with zero traffic. Commands are \
            validated, not applied; nothing a script does leaves the process.

            Errors are printed as path:line: message. Exit 0 when every script is valid, \
            1 when any is not or when no script was found, 2 for usage errors and missing paths.

            Example:
              sentinel check policies/
              sentinel check policies/retry_tuning.lua policies/breaker_guard.lua
            """
    )

    @Argument(help: "Script files or folders of scripts (*.lua).")
    var paths: [String]

    func validate() throws {
        for path in paths {
            var info = stat()
            if stat(path, &info) != 0 {
                throw ValidationError("\(path): no such file or folder")
            }
        }
    }

    func run() async throws {
        var files: [ScriptFile] = []
        var problems: [String] = []
        for path in paths {
            var info = stat()
            _ = stat(path, &info)
            if (info.st_mode & S_IFMT) == S_IFDIR {
                let scanner = ScriptFolderScanner(folders: [path])
                for change in scanner.scan() {
                    switch change {
                    case .added(let file), .modified(let file): files.append(file)
                    case .unreadable(let path, let reason): problems.append("\(path): \(reason)")
                    case .removed: break
                    }
                }
            } else {
                switch ScriptFile.read(path: path) {
                case .success(let file): files.append(file)
                case .failure(let error): problems.append(error.description)
                }
            }
        }
        var logger = Logger(label: "sentinel.check")
        logger.logLevel = .critical
        let registry = ParameterRegistry()
        let plane = ControlPlane(registry: registry)
        var failed = problems.count
        for problem in problems { print(problem) }
        var names: [String: String] = [:]
        for file in files.sorted(by: { $0.path < $1.path }) {
            // One engine per file: scripts are checked independently (two files
            // may use the same name), each against its own sample state.
            let engine = ScriptEngine(plane: plane, logger: logger, sample: true)
            let source: String
            switch file.text {
            case .success(let text): source = text
            case .failure(let invalid):
                print("\(file.path):\(invalid.line): the file is \(invalid)")
                failed += 1
                continue
            }
            switch await engine.load(path: file.path, source: source) {
            case .success(let name):
                if let other = names[name] {
                    print("\(file.path): a script named '\(name)' is already loaded from \(other); `run` would refuse this one")
                    failed += 1
                    continue
                }
                names[name] = file.path
                let warnings = await engine.checkCommands(path: file.path)
                let errors = warnings.filter { !$0.hasPrefix("warning:") }
                for warning in warnings { print("\(file.path): \(warning)") }
                if !errors.isEmpty {
                    failed += 1
                    continue
                }
                let status = await engine.status(of: name)
                let interval = status.map { " every \(format($0.interval.secondsDouble))" } ?? ""
                let dry = status?.dryRun == true ? " (dry run)" : ""
                print("ok \(file.path): \(name)\(interval)\(dry)")
            case .failure(let error):
                print(error.description)
                failed += 1
            }
        }
        if files.isEmpty && problems.isEmpty {
            print("no scripts (*.lua) found in \(paths.joined(separator: " "))")
            throw ExitCode.scriptFailed
        }
        if failed > 0 {
            print("\(failed) of \(files.count + problems.count) scripts failed the check")
            throw ExitCode.scriptFailed
        }
    }

    private func format(_ seconds: Double) -> String {
        seconds.rounded() == seconds ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
