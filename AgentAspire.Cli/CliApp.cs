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
public sealed class CliApp(IAnsiConsole console, Func<string, string?> environment, TimeProvider time)
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

    private Command FlagsCommand(Func<Argument<string>> agent)
    {
        var flags = new Command("flags", "Feature flags and kill switches.");
        var listAgent = agent();
        var list = new Command("list", "The flags (agent definitions and each revision's set) and the kill switches that are on.") { listAgent, _output };
        list.SetAction((parse, ct) => Run(parse, ct, (api, c) => FlagsListAsync(api, parse.GetValue(listAgent)!, Format(parse), c)));
        flags.Subcommands.Add(list);
        flags.Subcommands.Add(Switch("kill", kill: true));
        flags.Subcommands.Add(Switch("restore", kill: false));
        return flags;

        Command Switch(string name, bool kill)
        {
            var target = agent();
            var flag = new Argument<string>("flag") { Description = "The flag id, or * for every flag." };
            var track = new Option<string>("--track") { Description = "Only on this track (stable or canary)." };
            var revision = new Option<int?>("--revision") { Description = "Only for this revision." };
            var command = new Command(name, kill ? "Turn a flag (or every flag) off until restored." : "Turn a kill switch off again.")
                { target, flag, track, revision, _reason };
            command.SetAction((parse, ct) => Run(parse, ct, async (api, c) =>
            {
                var id = parse.GetValue(flag)!;
                var path = id == "*" ? $"{AgentPath(parse.GetValue(target)!)}/flags/kill" : $"{AgentPath(parse.GetValue(target)!)}/flags/{Uri.EscapeDataString(id)}/kill";
                var result = await api.SendAsync(kill ? HttpMethod.Post : HttpMethod.Delete, path,
                    new { track = parse.GetValue(track), revision = parse.GetValue(revision), reason = parse.GetValue(_reason) }, c);
                var scope = result.Str("track") is { Length: > 0 } t ? $"on {t}" : result.Prop("revision") is { } r ? $"for revision {r}" : "everywhere";
                console.MarkupLineInterpolated(
                    $"flag [bold]{result.Str("flag")}[/] {(kill ? "killed" : "restored")} {scope}{(result.Prop("changed")?.GetBoolean() == false ? " (no change)" : "")}, flag version {result.Long("version")}");
                return ExitCodes.Ok;
            }));
            return command;
        }
    }

    private Command AnalysisCommand(Func<Argument<string>> agent)
    {
        var target = agent();
        var rollout = new Option<long?>("--rollout") { Description = "Only this rollout's runs." };
        var runs = new Command("runs", "The analysis runs: each metric's measurements and verdict.") { target, rollout, _output };
        runs.SetAction((parse, ct) => Run(parse, ct, (api, c) => AnalysisRunsAsync(api, parse.GetValue(target)!, parse.GetValue(rollout), Format(parse), c)));
        return new Command("analysis", "Canary analysis.") { runs };
    }

    // ---- commands ------------------------------------------------------------------------------------------------------

    private async Task<int> GetRolloutAsync(ApiClient api, string agent, bool watch, string format, CancellationToken cancellationToken)
    {
        if (!watch)
        {
            var frame = await FirstFrameAsync(api, agent, cancellationToken);
            if (Print(format, frame))
            {
                return ExitCodes.Ok;
            }

            console.Write(RolloutView.Render(frame, time.GetUtcNow()));
            return ExitCodes.Ok;
        }

        if (format != "text")
        {
            // One document per frame, separated as a stream of YAML documents / JSON lines.
            await foreach (var frame in FollowAsync(api, agent, cancellationToken))
            {
                if (format == "json")
                {
                    console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(frame, Json.Compact));
                }
                else
                {
                    console.Profile.Out.Writer.Write("---\n" + Json.ToYaml(frame));
                }
            }

            return ExitCodes.Ok;
        }

        var first = await FirstFrameAsync(api, agent, cancellationToken);
        await console.Live(RolloutView.Render(first, time.GetUtcNow())).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Cropping(VerticalOverflowCropping.Bottom)
            .StartAsync(async context =>
            {
                // Analysis runs are read again only when the rollout changes (its id or version), not once a second.
                (long Id, long Version) seen = (-1, -1);
                JsonElement? runs = null;
                try
                {
                    await foreach (var frame in FollowAsync(api, agent, cancellationToken))
                    {
                        if (frame.Prop("rollout") is { } rollout && (rollout.Long("id"), rollout.Long("version")) != seen)
                        {
                            seen = (rollout.Long("id"), rollout.Long("version"));
                            runs = await api.FindAsync(string.Create(CultureInfo.InvariantCulture, $"{AgentPath(agent)}/rollouts/{seen.Id}/analysis-runs"), cancellationToken);
                        }

                        context.UpdateTarget(RolloutView.Render(frame, time.GetUtcNow(), runs));
                        context.Refresh();
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl-C: leave the last frame on screen.
                }
            });
        return ExitCodes.Ok;
    }

    private async Task<int> ListAsync(ApiClient api, string format, CancellationToken cancellationToken)
    {
        var agents = await api.GetAsync("/api/agents", cancellationToken);
        if (Print(format, agents))
        {
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("AGENT", "STABLE", "WEIGHT", "ROLLOUT", "STATE", "STEP");
        foreach (var agent in agents.EnumerateArray())
        {
            var name = agent.Str("name");
            var newest = await api.FindAsync($"{AgentPath(name)}/rollout", cancellationToken);
            var stable = agent.Prop("stableRevision") ?? default;
            table.AddRow(
                Markup.Escape(name),
                Markup.Escape($"#{stable.Long("number")} {stable.Str("version")}"),
                Json.Percent((agent.Prop("route") ?? default).Long("weight")),
                newest is { } r ? $"#{r.Long("id")}" : "—",
                newest is { } s ? Markup.Escape(s.Str("state")) : "—",
                newest is { } t ? Markup.Escape(RolloutView.StepText(t)) : "—");
        }

        console.Write(table);
        return ExitCodes.Ok;
    }

    private async Task<int> SetAsync(ApiClient api, string kind, string agent, string tag, string? version, string? steps, string? reason,
        CancellationToken cancellationToken)
    {
        JsonElement? stepList = null;
        if (!string.IsNullOrWhiteSpace(steps))
        {
            var text = steps.StartsWith('@') ? await File.ReadAllTextAsync(steps[1..], cancellationToken) : steps;
            try
            {
                stepList = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException exception)
            {
                console.MarkupLineInterpolated($"[red]error[/]: --steps is not JSON: {exception.Message}");
                return ExitCodes.Failed;
            }
        }

        // Revisions are immutable: the same version with the same image (or build) is the revision that already exists.
        var label = version ?? tag;
        var revisions = await api.GetAsync($"{AgentPath(agent)}/revisions", cancellationToken);
        var existing = revisions.Items().FirstOrDefault(r => r.Str("version") == label && r.Str(kind == "image" ? "imageTag" : "build") == tag);
        JsonElement revision;
        if (existing.ValueKind == JsonValueKind.Object)
        {
            revision = existing;
            console.MarkupLineInterpolated($"revision [bold]#{revision.Long("number")}[/] already is {label} ({kind} {tag}): reusing it");
        }
        else
        {
            object body = kind == "image"
                ? new { version = label, imageTag = tag, reason }
                : new { version = label, build = tag, reason };
            revision = await api.SendAsync(HttpMethod.Post, $"{AgentPath(agent)}/revisions", body, cancellationToken);
            console.MarkupLineInterpolated($"revision [bold]#{revision.Long("number")}[/] created: {revision.Str("version")} ({kind} {tag})");
        }

        var rollout = await api.SendAsync(HttpMethod.Post, $"{AgentPath(agent)}/rollouts",
            new { revision = revision.Long("number"), steps = stepList, reason }, cancellationToken);
        console.MarkupLineInterpolated($"rollout [bold]#{rollout.Long("id")}[/] started: {rollout.Str("state")}, {rollout.Long("stepCount")} steps");
        console.MarkupLineInterpolated($"[grey]{rollout.Str("nextAction")}[/]");
        return ExitCodes.Ok;
    }

    private async Task<int> StatusAsync(ApiClient api, string agent, long? id, TimeSpan timeout, string format, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var watched = id ?? (await api.GetAsync($"{AgentPath(agent)}/rollout", cancellationToken)).Long("id");
        var last = "";
        JsonElement rollout = default;
        try
        {
            await foreach (var frame in FollowAsync(api, agent, deadline.Token))
            {
                rollout = frame.Prop("rollout") is { } newest && newest.Long("id") == watched
                    ? newest
                    : await api.GetAsync($"{AgentPath(agent)}/rollouts/{watched}", deadline.Token);
                var state = rollout.Str("state");
                var line = $"rollout #{watched}: {state}, step {RolloutView.StepText(rollout)}, weight {Json.Percent(rollout.Long("weight"))}";
                if (line != last && format == "text")
                {
                    console.WriteLine(line);
                    last = line;
                }

                if (!RolloutView.IsActive(state))
                {
                    if (!Print(format, rollout))
                    {
                        console.WriteLine(rollout.Str("message"));
                    }

                    // RolledBack is the end of an undo: the re-apply it was asked for is done.
                    return state is "Promoted" or "RolledBack" ? ExitCodes.Ok : ExitCodes.Failed;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The timeout: reported below.
        }

        console.MarkupLineInterpolated($"[yellow]timeout[/]: rollout #{watched} is still {(rollout.ValueKind == JsonValueKind.Object ? rollout.Str("state") : "active")} after {timeout}");
        return ExitCodes.Timeout;
    }

    private async Task<int> FlagsListAsync(ApiClient api, string agent, string format, CancellationToken cancellationToken)
    {
        var definitions = await api.FindAsync($"{AgentPath(agent)}/flags/definitions", cancellationToken);
        var kills = await api.GetAsync($"{AgentPath(agent)}/flags/kills", cancellationToken);
        var revisions = await api.GetAsync($"{AgentPath(agent)}/revisions", cancellationToken);
        var sources = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(JsonElement? set, string source)
        {
            foreach (var flag in (set?.Prop("feature_management")?.Prop("feature_flags")).Items())
            {
                var name = flag.Str("id");
                if (!sources.TryGetValue(name, out var where))
                {
                    sources[name] = where = [];
                }

                where.Add(source);
            }
        }

        Add(definitions, "agent");
        foreach (var revision in revisions.EnumerateArray())
        {
            Add(await api.FindAsync($"{AgentPath(agent)}/revisions/{revision.Long("number")}/flags", cancellationToken), $"#{revision.Long("number")}");
        }

        if (format != "text")
        {
            var document = JsonSerializer.SerializeToElement(new
            {
                agent,
                version = kills.Long("version"),
                flags = sources.Select(s => new { id = s.Key, definedIn = s.Value }),
                kills = kills.Prop("kills"),
            }, Json.Web);
            Print(format, document);
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("FLAG", "DEFINED IN", "KILL SWITCH");
        var killList = kills.Prop("kills").Items().ToList();
        foreach (var (name, where) in sources)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(string.Join(", ", where)), KillText(killList.Where(k => k.Str("flag") == name)));
        }

        table.AddRow("*", "every flag", KillText(killList.Where(k => k.Str("flag") == "*")));
        console.Write(table);
        console.MarkupLineInterpolated($"[grey]flag version {kills.Long("version")}[/]");
        return ExitCodes.Ok;

        static string KillText(IEnumerable<JsonElement> kills)
        {
            var text = string.Join("; ", kills.Select(k =>
                $"off {(k.Str("track") is { Length: > 0 } t ? $"on {t}" : k.Prop("revision") is { } r ? $"for #{r}" : "everywhere")} by {k.Str("by")}"));
            return text.Length == 0 ? "[green]on[/]" : $"[red]{Markup.Escape(text)}[/]";
        }
    }

    /// <summary>The rollout's analysis runs (RolloutApi/Rollouts/Analysis/README.md): each metric's measurements and verdicts.</summary>
    private async Task<int> AnalysisRunsAsync(ApiClient api, string agent, long? rollout, string format, CancellationToken cancellationToken)
    {
        var path = rollout is { } id
            ? string.Create(CultureInfo.InvariantCulture, $"{AgentPath(agent)}/rollouts/{id}/analysis-runs")
            : $"{AgentPath(agent)}/rollout/analysis-runs";
        var document = await api.GetAsync(path, cancellationToken);
        if (Print(format, document))
        {
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("RUN", "STEP", "METRIC", "MEASUREMENTS", "VERDICT").Title($"rollout #{document.Long("rolloutId")}");
        var runs = document.Prop("runs").Items().ToList();
        foreach (var run in runs)
        {
            var step = run.Prop("stepIndex") is { } s ? s.GetRawText() : "background";
            table.AddRow(new Markup($"#{run.Long("id")}"), new Text(step),
                new Text($"{run.Str("template")} v{run.Long("templateVersion")} ({run.Str("kind")})"), new Text(run.Str("summary")), Verdict(run.Str("state")));
            var metrics = run.Prop("measurements").Items()
                .SelectMany(m => m.Prop("metrics").Items().Select(metric => (Number: m.Long("number"), Metric: metric)))
                .GroupBy(x => x.Metric.Str("metric"));
            foreach (var metric in metrics)
            {
                var list = metric.ToList();
                var last = list[^1].Metric;
                var values = string.Join(", ", list.TakeLast(8).Select(x => $"#{x.Number} {x.Metric.Str("verdict")}" +
                    (x.Metric.Double("statistic") is { } stat ? string.Create(CultureInfo.InvariantCulture, $" ({stat:0.###})") : "")));
                table.AddRow(new Text(""), new Text(""), new Text($"{metric.Key} ({last.Str("source")}/{last.Str("judge")})"),
                    new Text($"{values}{(last.Str("reason") is { Length: > 0 } reason ? $" — {reason}" : "")}"), Verdict(last.Str("verdict")));
            }
        }

        if (runs.Count == 0)
        {
            console.MarkupLineInterpolated($"[grey]rollout #{document.Long("rolloutId")} has no analysis runs (the built-in 'pass' provider records none; see the rollout's lastAnalysis).[/]");
            return ExitCodes.Ok;
        }

        console.Write(table);
        return ExitCodes.Ok;

        static Markup Verdict(string verdict) => verdict switch
        {
            "Pass" => new Markup("[green]Pass[/]"),
            "Fail" => new Markup("[red]Fail[/]"),
            "Inconclusive" => new Markup("[yellow]Inconclusive[/]"),
            _ => new Markup(Markup.Escape(verdict)),
        };
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
