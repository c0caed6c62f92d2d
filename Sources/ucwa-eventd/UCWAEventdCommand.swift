import ArgumentParser

/// `ucwa-eventd`: the command-line entry point (DESIGN.md §3, Commands).
@main
struct UCWAEventdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ucwa-eventd",
        abstract: "Turns the event channel of a UCWA application into lifecycle records.",
        version: "0.1.0",
        subcommands: [RunCommand.self, DemoCommand.self, ReplayCommand.self, CheckConfigCommand.self]
    )
}
