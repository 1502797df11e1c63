using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace AgentAspire.Cli;

/// <summary>
/// Renders one live frame (<c>/api/agents/{agent}/live</c>: agent, newest rollout, per-track traffic) the way Argo Rollouts'
/// kubectl plugin shows a rollout: a summary, the steps as a tree with the current one marked, analysis and traffic.
/// </summary>
internal static class RolloutView
{
    /// <param name="runs">The rollout's analysis runs (<c>…/rollouts/{id}/analysis-runs</c>), when the server has any.</param>
    public static IRenderable Render(JsonElement frame, DateTimeOffset now, JsonElement? runs = null)
    {
        var agent = frame.Prop("agent") ?? default;
        var rollout = frame.Prop("rollout");
        var rows = new List<IRenderable> { Summary(agent, rollout, now) };
        if (rollout is { } r)
        {
            rows.Add(Steps(r));
            rows.Add(Analysis(r));
            foreach (var run in (runs?.Prop("runs")).Items())
            {
                rows.Add(Run(run));
            }
        }

        rows.Add(Traffic(frame));
        return new Rows(rows);
    }

    private static Grid Summary(JsonElement agent, JsonElement? rollout, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string label, string markup) => grid.AddRow(new Markup($"[grey]{label}[/]"), new Markup(markup));

        var route = agent.Prop("route") ?? default;
        var stable = agent.Prop("stableRevision") ?? default;
        Row("Name:", Esc(agent.Str("name")));
        if (rollout is not { } r)
        {
            Row("Status:", "[grey]no rollout yet[/]");
            Row("Stable:", Revision(stable));
            Row("Weight:", Json.Percent(route.Long("weight")));
            return grid;
        }

        var state = r.Str("state");
        var hold = r.Str("hold");
        Row("Status:", $"{StateMarkup(state)}{(hold.Length > 0 ? $" [yellow](held: {Esc(hold)})[/]" : "")}");
        Row("Message:", Esc(r.Str("message")));
        Row("Rollout:", $"#{r.Long("id")} (version {r.Long("version")}) by {Esc(r.Str("createdBy"))}");
        Row("Revisions:", $"stable {Revision(r.Prop("fromRevision") ?? default)}  →  canary {Revision(r.Prop("toRevision") ?? default)}");
        Row("Step:", StepText(r));
        Row("Time:", Esc(Timer(r, now)));
        Row("SetWeight:", Json.Percent(r.Long("weight")));
        Row("ActualWeight:", Json.Percent(route.Long("weight")));
        Row("Next:", Esc(r.Str("nextAction")));
        return grid;
    }

    private static Tree Steps(JsonElement rollout)
    {
        var tree = new Tree("[bold]Steps[/]");
        var index = (int)rollout.Long("currentStepIndex");
        var state = rollout.Str("state");
        var i = 0;
        foreach (var step in (rollout.Prop("steps")).Items())
        {
            var (glyph, style) = StepStatus(i, index, state);
            var text = $"{glyph} {i}. {Esc(Describe(step))}";
            tree.AddNode(new Markup(i == index && IsActive(state) ? $"[bold {style}]{text}[/]" : $"[{style}]{text}[/]"));
            i++;
        }

        var end = state switch
        {
            "Promoted" => "[green]✔ promoted[/]",
            "Aborted" => "[red]✖ aborted[/]",
            "RolledBack" => "[red]↺ rolled back[/]",
            _ => "[grey]◌ promotion[/]",
        };
        tree.AddNode(new Markup(end));
        return tree;
    }

    private static IRenderable Analysis(JsonElement rollout)
    {
        if (rollout.Prop("lastAnalysis") is not { } analysis)
        {
            return new Markup("[grey]Analysis: none run yet[/]");
        }

        var verdict = analysis.Str("verdict");
        var color = verdict switch { "Pass" => "green", "Fail" => "red", _ => "yellow" };
        return new Markup($"[grey]Analysis:[/] [{color}]{Esc(verdict)}[/] at step {analysis.Long("stepIndex")} ({Esc(analysis.Str("provider"))}): {Esc(analysis.Str("summary"))}");
    }

    private static Markup Run(JsonElement run)
    {
        var state = run.Str("state");
        var color = state switch { "Pass" => "green", "Fail" => "red", "Running" => "blue", _ => "yellow" };
        var step = run.Prop("stepIndex") is { } index ? $"step {index.GetRawText()}" : "background";
        var counts = run.Prop("counts") ?? default;
        return new Markup($"[grey]  run #{run.Long("id")}[/] {Esc(run.Str("template"))} ({step}): [{color}]{Esc(state)}[/] " +
            $"[grey]{counts.Long("measurements")} measurement(s), {counts.Long("pass")} pass / {counts.Long("fail")} fail / {counts.Long("inconclusive")} inconclusive[/] {Esc(run.Str("summary"))}");
    }

    private static IRenderable Traffic(JsonElement frame)
    {
        if (frame.Prop("traffic") is not { } traffic)
        {
            return new Markup($"[grey]Traffic: {Esc(frame.Str("trafficError", "no data"))}[/]");
        }

        var table = new Table().Border(TableBorder.Simple)
            .Title($"[grey]Traffic, last {traffic.Long("windowSeconds")}s ({traffic.Long("gateways")} gateway(s))[/]")
            .AddColumn("track").AddColumn("version").AddColumn(new TableColumn("req/s").RightAligned())
            .AddColumn(new TableColumn("errors").RightAligned()).AddColumn(new TableColumn("p50 ms").RightAligned())
            .AddColumn(new TableColumn("p95 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned());
        foreach (var name in (string[])["stable", "canary"])
        {
            var t = traffic.Prop(name) ?? default;
            var errorRate = t.Double("errorRate") ?? 0;
            table.AddRow(
                new Markup(name == "canary" ? "[darkorange]canary[/]" : "[blue]stable[/]"),
                new Text(t.Str("version")),
                new Text(Num(t.Double("requestsPerSecond"))),
                new Markup(errorRate > 0 ? $"[red]{errorRate * 100:0.##}%[/]" : "0%"),
                new Text(Num(t.Double("p50"))),
                new Text(Num(t.Double("p95"))),
                new Text(Num(t.Double("p99"))));
        }

        return table;
    }

    public static string Describe(JsonElement step)
    {
        if (step.Prop("setWeight") is { } weight)
        {
            return $"setWeight {Json.Percent(weight.GetInt64())}";
        }

        if (step.Prop("pause") is { } pause)
        {
            return pause.Prop("durationSeconds") is { } seconds ? $"pause {seconds.GetInt64()}s" : "pause until promoted";
        }

        if (step.Prop("analysis") is { } analysis)
        {
            return analysis.Prop("provider") is { } provider ? $"analysis ({provider.GetString()})" : "analysis";
        }

        return "?";
    }

    public static string StepText(JsonElement rollout)
    {
        var index = rollout.Long("currentStepIndex");
        var count = rollout.Long("stepCount");
        return count == 0 ? "no steps (an undo)"
            : index < 0 ? $"preparing (0/{count})"
            : index >= count ? $"{count}/{count} done"
            // index/count, as Argo's plugin shows it; step numbers are 0-based like RolloutApi's messages ("step 1 (pause …)").
            : $"{index}/{count}: {Esc(rollout.Prop("currentStep") is { } s ? Describe(s) : "")}";
    }

    public static bool IsActive(string state) => state is "Progressing" or "Paused" or "Analyzing";

    private static string Timer(JsonElement rollout, DateTimeOffset now)
    {
        if (rollout.Prop("completedAt") is { } completed)
        {
            return $"finished at {completed.GetDateTimeOffset():u}";
        }

        var started = rollout.Prop("stepStartedAt")?.GetDateTimeOffset() ?? now;
        var text = $"{Duration(now - started)} in step";
        if (rollout.Prop("pauseEndsAt") is { } ends)
        {
            var left = ends.GetDateTimeOffset() - now;
            text += $", pause ends in {Duration(left < TimeSpan.Zero ? TimeSpan.Zero : left)}";
        }

        return text;
    }

    private static (string Glyph, string Style) StepStatus(int i, int current, string state) =>
        state == "Promoted" || i < current ? ("✔", "green")
        : i == current && IsActive(state) ? ("►", state == "Paused" ? "yellow" : "blue")
        : i == current ? ("✖", "red")
        : ("◌", "grey");

    private static string StateMarkup(string state) => state switch
    {
        "Promoted" => "[green]✔ Promoted[/]",
        "Aborted" => "[red]✖ Aborted[/]",
        "RolledBack" => "[red]↺ RolledBack[/]",
        "Paused" => "[yellow]‖ Paused[/]",
        "Analyzing" => "[blue]◎ Analyzing[/]",
        _ => $"[blue]◌ {Esc(state)}[/]",
    };

    private static string Revision(JsonElement revision) =>
        revision.ValueKind == JsonValueKind.Object
            ? Esc($"#{revision.Long("number")} {revision.Str("version")} (image {revision.Str("imageTag")})")
            : "?";

    private static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
        : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds}s");

    private static string Num(double? value) => value is { } v ? v.ToString(v >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture) : "—";

    private static string Esc(string text) => Markup.Escape(text);
}
