using AgentAspire.Cli;

// Ctrl-C ends the command (a --watch or a status wait) through its cancellation token; System.CommandLine handles it.
return await CliApp.RunConsoleAsync(args);
