import ArgumentParser
import Eventd
import Logging
import UCWA

/// `ucwa-eventd run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: hold the event channel and write lifecycle records."
    )

    @Option(help: "Configuration file (default: /etc/ucwa-eventd/ucwa-eventd.conf).")
    var config: String?

    @Option(help: "Where records go: stdout or journald (overrides [Output] Sink=).")
    var sink: String?

    @Option(help: "State directory (overrides [Daemon] StateDirectory=; $STATE_DIRECTORY wins over both).")
    var stateDir: String?

    func run() async throws {
        let stop = StopSignal()
        let environment = processEnvironment()
        let level = SharedLogLevel(.info)
        let live = LiveSettings(events: .participantInvitations)
        let logger = makeLogger(level: level, environment: environment)
        let stats = DaemonStats()
        let status = DaemonStatus(notifier: Notifier(environment: environment), stats: stats)
        var flags: [(section: String, name: String, value: String)] = []
        if let sink { flags.append(("Output", "Sink", sink)) }
        if let stateDir { flags.append(("Daemon", "StateDirectory", stateDir)) }
        let configPath = config
        let reloadFlags = flags
        // Installed first: SIGTERM or SIGHUP at any moment from here on is handled.
        let signals = Signals(
            stop: {
                status.stopping()
                stop.request()
            },
            reload: {
                status.notifier.reloading()
                do {
                    let reloaded = try ConfigurationLoader.load(
                        path: configPath,
                        environment: environment,
                        flags: reloadFlags
                    )
                    level.set(reloaded.logLevel)
                    live.events = reloaded.events
                    logger.notice(
                        "configuration reloaded",
                        metadata: ["events": "\(reloaded.events.rawValue)", "log_level": "\(reloaded.logLevel)"]
                    )
                } catch {
                    logger.error("reload refused, keeping the running settings: \(error)")
                }
                status.reloaded()
            }
        )
        defer { signals.cancel() }

        let configuration = try loadConfiguration(path: config, environment: environment, flags: flags)
        level.set(configuration.logLevel)
        live.events = configuration.events
        let password: String
        do {
            try ConfigurationLoader.validateForRun(configuration)
            password = try ConfigurationLoader.password(for: configuration, environment: environment)
        } catch {
            Diagnostics.print("configuration error: \(error)")
            throw ExitCode(ExitStatus.configuration)
        }
        var daemon = Daemon(
            configuration: configuration,
            password: password,
            environment: environment,
            logger: logger,
            stop: stop
        )
        daemon.live = live
        daemon.stats = stats
        daemon.status = status
        let choice: SinkChoice = configuration.sink == .journald ? .journald : .stdout(descriptor: 1)
        let code = await daemon.run(sink: choice)
        if code != 0 { throw ExitCode(code) }
    }
}
