// SPDX-License-Identifier: Apache-2.0
// sluice entry point: parses the HAProxy-style command line by hand (swift-argument-parser would link
// Foundation, and -vv, repeated -f and single-dash flags fit it poorly), loads the configuration, then either
// checks it (-c) or hands it to the Daemon. Exit codes: 0 success, 1 bad configuration or start failure,
// 2 bad command line.
import Glibc
import SluiceConfig
import SluiceProxy

/// What the command line asked for.
struct CommandLineOptions {
    var configPaths: [String] = []
    var checkOnly = false
    var showVersion = 0
    var daemon = DaemonOptions()
}

func writeLine(_ text: String, to fd: Int32) {
    var line = text + "\n"
    line.withUTF8 { buf in
        var offset = 0
        while offset < buf.count {
            let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

let usage = """
    Usage : sluice [-f <cfgfile|cfgdir>]* [ -vdVDq ] [ -c ] [ -p <pidfile> ]
            -v displays version ; -vv shows known build options.
            -d enters debug mode (foreground, traces on stderr) ; -db only disables background mode.
            -V enters verbose mode (disables quiet mode)
            -D goes daemon ; -p writes pids of all children to this file
            -c check mode : only check config files and exit
            -q quiet mode : don't display messages
            -f <cfgfile|cfgdir> adds <cfgfile> (or the *.cfg files of <cfgdir>) to the list of config files
    """

/// Parses argv; on error prints the problem and the usage, then exits 2.
func parseCommandLine(_ args: [String]) -> CommandLineOptions {
    var options = CommandLineOptions()
    var i = 1
    func fail(_ message: String) -> Never {
        writeLine("[ALERT] \(message)", to: 2)
        writeLine(usage, to: 2)
        exit(2)
    }
    func value(for flag: String) -> String {
        guard i + 1 < args.count else { fail("option '\(flag)' expects an argument") }
        i += 1
        return args[i]
    }
    while i < args.count {
        let arg = args[i]
        switch arg {
        case "-f": options.configPaths.append(value(for: arg))
        case "-c": options.checkOnly = true
        case "-v": options.showVersion = max(options.showVersion, 1)
        case "-vv": options.showVersion = 2
        case "-d":
            options.daemon.isDebug = true
        case "-db", "-V":
            break  // foreground / verbose: sluice already runs in the foreground and prints notices
        case "-D": options.daemon.daemonize = true
        case "-q": options.daemon.isQuiet = true
        case "-p": options.daemon.pidFile = value(for: arg)
        case "--":
            // HAProxy: everything after -- is a config file.
            options.configPaths.append(contentsOf: args[(i + 1)...])
            i = args.count
        default:
            if arg.hasPrefix("-f") && arg.count > 2 {
                options.configPaths.append(String(arg.dropFirst(2)))
            } else if arg.hasPrefix("-p") && arg.count > 2 {
                options.daemon.pidFile = String(arg.dropFirst(2))
            } else {
                fail("unknown option '\(arg)'")
            }
        }
        i += 1
    }
    return options
}

let options = parseCommandLine(CommandLine.arguments)

if options.showVersion == 1 {
    writeLine(Daemon.versionLine, to: 1)
    exit(0)
} else if options.showVersion == 2 {
    writeLine(Daemon.buildDetails, to: 1)
    exit(0)
}
if options.configPaths.isEmpty {
    writeLine("[ALERT] No configuration file specified (use -f <file>).", to: 2)
    writeLine(usage, to: 2)
    exit(2)
}

let loaded = ConfigLoader.load(paths: options.configPaths)
for diagnostic in Daemon.diagnostics(of: loaded) where !(options.daemon.isQuiet && diagnostic.severity == .warning) {
    writeLine(diagnostic.rendered, to: 2)
}
guard let configuration = loaded.configuration else {
    writeLine("[ALERT] Fatal errors found in configuration.", to: 2)
    exit(1)
}
if options.checkOnly {
    let problems = Daemon.check(configuration)
    for line in problems { writeLine(line, to: 2) }
    if !problems.isEmpty {
        writeLine("[ALERT] Fatal errors found in configuration.", to: 2)
        exit(1)
    }
    if !options.daemon.isQuiet { writeLine("Configuration file is valid", to: 1) }
    exit(0)
}
exit(Daemon.run(configuration, configPaths: options.configPaths, options: options.daemon))
