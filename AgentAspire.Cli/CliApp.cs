using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Spectre.Console;

namespace AgentAspire.Cli;

/// <summary>Exit codes. <c>status</c> uses all four; every other command 0 or <see cref="Failed"/>.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A refused or failed call (the problem detail is printed), or for <c>status</c>: aborted.</summary>
    public const int Failed = 1;

    /// <summary><c>status</c> only: the rollout did not finish within <c>--timeout</c>.</summary>
    public const int Timeout = 2;

    /// <summary><c>status</c> only: the outcome could not be read (RolloutApi refused or could not be reached).</summary>
    public const int Unknown = 3;
}

/// <summary>
/// <c>agentaspire</c>: see and steer AgentAspire rollouts from a terminal or a pipeline, through RolloutApi's HTTP API.
/// </summary>
public sealed partial class CliApp(IAnsiConsole console, Func<string, string?> environment, TimeProvider time)
{
    public const string ServerVariable = "AGENTASPIRE_SERVER";
    public const string KeyVariable = "AGENTASPIRE_KEY";
    public const string DefaultServer = "http://localhost:5110";
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly Option<string> _server = new("--server", "-s")
    {
        Description = $"RolloutApi's address (or ${ServerVariable}; default {DefaultServer}).",
        Recursive = true,
    };

    private readonly Option<string> _key = new("--key", "-k")
    {
        Description = $"An API key: viewer to read, operator to act (or ${KeyVariable}).",
        Recursive = true,
    };

    private readonly Option<string> _output = new Option<string>("--output", "-o") { Description = "Output format of a read: text (default), json or yaml." }
        .AcceptOnlyFromAmong("text", "json", "yaml");

    private readonly Option<string> _reason = new("--reason") { Description = "Why (recorded in the audit log)." };

    public static Task<int> RunConsoleAsync(string[] args) =>
        new CliApp(AnsiConsole.Console, Environment.GetEnvironmentVariable, TimeProvider.System).RunAsync(args, CancellationToken.None);

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = BuildCommands();
        var result = root.Parse(args);
        var output = new StringWriter();
        var code = await result.InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, cancellationToken);
        if (output.GetStringBuilder().Length > 0)
        {
            console.Write(new Text(output.ToString()));
        }

        return code;
    }

    internal RootCommand BuildCommands()
    {
        var root = new RootCommand("agentaspire: see and steer AgentAspire rollouts (RolloutApi's HTTP API).") { _server, _key };
        var agent = () => new Argument<string>("agent") { Description = "The agent (e.g. agent-worker)." };

        // get rollout AGENT [--watch]
        var getAgent = agent();
        var watch = new Option<bool>("--watch", "-w") { Description = "Keep the view open, refreshed from the live stream." };
        var getRollout = new Command("rollout", "A rollout as a tree: status, steps, weights, analysis and per-track traffic.") { getAgent, watch, _output };
        getRollout.SetAction((parse, ct) => Run(parse, ct, (api, c) => GetRolloutAsync(api, parse.GetValue(getAgent)!, parse.GetValue(watch), Format(parse), c)));
        root.Subcommands.Add(new Command("get", "Show a resource.") { getRollout });

        // list
        var list = new Command("list", "Every agent: stable revision, canary weight and its newest rollout.") { _output };
        list.SetAction((parse, ct) => Run(parse, ct, (api, c) => ListAsync(api, Format(parse), c)));
        root.Subcommands.Add(list);

        // promote [--full], pause, resume, abort, retry
        var full = new Option<bool>("--full") { Description = "Skip every remaining step: the canary becomes stable." };
        root.Subcommands.Add(Operation("promote", "Skip the current step (end a pause, skip an analysis).", extra: full,
            op: parse => parse.GetValue(full) ? "promote-full" : "promote"));
        root.Subcommands.Add(Operation("pause", "Hold the rollout where it is."));
        root.Subcommands.Add(Operation("resume", "Release a hold (or re-run an inconclusive analysis)."));
        root.Subcommands.Add(Operation("abort", "Canary weight 0 at once; the stable revision keeps serving."));
        root.Subcommands.Add(Operation("retry", "Start an aborted rollout over from its first step."));

        // undo [--to-revision N]
        var undoAgent = agent();
        var toRevision = new Option<int?>("--to-revision") { Description = "The revision to re-apply (default: the previous stable one)." };
        var undo = new Command("undo", "Re-apply an earlier revision on the stable track.") { undoAgent, toRevision, _reason };
        undo.SetAction((parse, ct) => Run(parse, ct, async (api, c) =>
        {
            var status = await api.SendAsync(HttpMethod.Post, $"{AgentPath(parse.GetValue(undoAgent)!)}/undo",
                new { revision = parse.GetValue(toRevision), reason = parse.GetValue(_reason) }, c);
            console.MarkupLineInterpolated($"[green]undo[/]: rollout #{status.Long("id")} {status.Str("state")}: {status.Str("message")}");
            return ExitCodes.Ok;
        }));
        root.Subcommands.Add(undo);

        // set build|image AGENT TAG
        root.Subcommands.Add(new Command("set", "Create a revision and start a rollout to it.") { SetCommand("image"), SetCommand("build") });

        // status AGENT
        var statusAgent = agent();
        var timeout = new Option<TimeSpan>("--timeout", "-t")
        {
            Description = "How long to wait (90s, 10m, 1h). Exit 2 when it runs out.",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(30),
            CustomParser = ParseDuration,
        };
        var rolloutId = new Option<long?>("--rollout") { Description = "The rollout to wait for (default: the agent's newest)." };
        var status = new Command("status", "Wait for the rollout's outcome: exit 0 promoted (or an undo done), 1 aborted, 2 timeout, 3 unknown.")
            { statusAgent, timeout, rolloutId, _output };
        status.SetAction((parse, ct) => Run(parse, ct,
            (api, c) => StatusAsync(api, parse.GetValue(statusAgent)!, parse.GetValue(rolloutId), parse.GetValue(timeout), Format(parse), c),
            errorCode: ExitCodes.Unknown));
        root.Subcommands.Add(status);

        root.Subcommands.Add(FlagsCommand(agent));
        root.Subcommands.Add(AnalysisCommand(agent));
        return root;

        Command Operation(string name, string description, Option<bool>? extra = null, Func<ParseResult, string>? op = null)
        {
            var target = agent();
            var command = new Command(name, description) { target, _reason };
            if (extra is not null)
            {
                command.Options.Add(extra);
            }

            command.SetAction((parse, ct) => Run(parse, ct, async (api, c) =>
            {
                var operation = op?.Invoke(parse) ?? name;
                var result = await api.SendAsync(HttpMethod.Post, $"{AgentPath(parse.GetValue(target)!)}/rollout/{operation}",
                    new { reason = parse.GetValue(_reason) }, c);
                console.MarkupLineInterpolated(
                    $"[green]{operation}[/]: rollout #{result.Long("id")} {result.Str("state")}, step {RolloutView.StepText(result)}, weight {Json.Percent(result.Long("weight"))}");
                console.MarkupLineInterpolated($"[grey]{result.Str("nextAction")}[/]");
                return ExitCodes.Ok;
            }));
            return command;
        }

        Command SetCommand(string kind)
        {
            var target = agent();
            var tag = new Argument<string>("tag") { Description = kind == "image" ? "The immutable image tag." : "The build to run (a local build id)." };
            var version = new Option<string>("--version") { Description = "The version label (default: the tag)." };
            var steps = new Option<string>("--steps") { Description = "The steps as JSON, or @file (default: the staged 1% → 100% rollout)." };
            var command = new Command(kind, $"Create a revision with this {kind} and start a rollout to it.") { target, tag, version, steps, _reason };
            command.SetAction((parse, ct) => Run(parse, ct, (api, c) => SetAsync(api, kind, parse.GetValue(target)!, parse.GetValue(tag)!,
                parse.GetValue(version), parse.GetValue(steps), parse.GetValue(_reason), c)));
            return command;
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------------------------------

    private async Task<JsonElement> FirstFrameAsync(ApiClient api, string agent, CancellationToken cancellationToken)
    {
        await foreach (var frame in api.StreamAsync($"{AgentPath(agent)}/live", "live", cancellationToken))
        {
            return frame;
        }

        throw new ApiProblemException(HttpStatusCode.BadGateway, "No frame", "The live stream ended before its first frame.", null);
    }

    /// <summary>The agent's live frames; reconnects (after a second) when the stream drops, gives up on a refusal.</summary>
    private async IAsyncEnumerable<JsonElement> FollowAsync(ApiClient api, string agent, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var stream = api.StreamAsync($"{AgentPath(agent)}/live", "live", cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await stream.MoveNextAsync();
                    }
                    catch (Exception exception) when (exception is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    if (!more)
                    {
                        break;
                    }

                    yield return stream.Current;
                }
            }
            finally
            {
                await stream.DisposeAsync();
            }

            await Task.Delay(ReconnectDelay, time, cancellationToken);
        }
    }

    private bool Print(string format, JsonElement document)
    {
        switch (format)
        {
            case "json":
                console.Profile.Out.Writer.WriteLine(Json.Indented(document));
                return true;
            case "yaml":
                console.Profile.Out.Writer.Write(Json.ToYaml(document));
                return true;
            default:
                return false;
        }
    }

    private string Format(ParseResult parse) => parse.GetValue(_output) ?? "text";

    private static string AgentPath(string agent) => $"/api/agents/{Uri.EscapeDataString(agent)}";

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "The action reads best as the last argument at the call sites.")]
    private async Task<int> Run(ParseResult parse, CancellationToken cancellationToken, Func<ApiClient, CancellationToken, Task<int>> action,
        int errorCode = ExitCodes.Failed)
    {
        var serverText = parse.GetValue(_server) ?? environment(ServerVariable) ?? DefaultServer;
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            console.MarkupLineInterpolated($"[red]error[/]: --server must be an http(s) address, not '{serverText}'.");
            return errorCode;
        }

        using var api = ApiClient.Create(server, parse.GetValue(_key) ?? environment(KeyVariable));
        try
        {
            return await action(api, cancellationToken);
        }
        catch (ApiProblemException problem)
        {
            console.MarkupLineInterpolated($"[red]error[/]: {problem.Title} (HTTP {(int)problem.Status})");
            if (problem.Detail is { Length: > 0 } detail)
            {
                console.MarkupLineInterpolated($"  {detail}");
            }

            if (problem.Errors is { ValueKind: JsonValueKind.Object } errors)
            {
                foreach (var error in errors.EnumerateObject())
                {
                    console.MarkupLineInterpolated($"  {error.Name}: {string.Join(" ", error.Value.Items().Select(e => e.ToString()))}");
                }
            }

            return errorCode;
        }
        catch (HttpRequestException exception)
        {
            console.MarkupLineInterpolated($"[red]error[/]: cannot reach RolloutApi at {server}: {exception.Message}");
            return errorCode;
        }
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (text.Length > 1 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(number);
                case 'm': return TimeSpan.FromMinutes(number);
                case 'h': return TimeSpan.FromHours(number);
            }
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"'{text}' is not a duration: use 90s, 10m, 1h or hh:mm:ss.");
        return default;
    }
}
