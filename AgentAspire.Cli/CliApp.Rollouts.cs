using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace AgentAspire.Cli;

/// <summary>The rollout commands: get (and --watch), list, set image|build, status.</summary>
public sealed partial class CliApp
{
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
}
