using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace AgentAspire.Cli;

/// <summary>The analysis commands: runs.</summary>
public sealed partial class CliApp
{
    private Command AnalysisCommand(Func<Argument<string>> agent)
    {
        var target = agent();
        var rollout = new Option<long?>("--rollout") { Description = "Only this rollout's runs." };
        var runs = new Command("runs", "The analysis runs: each metric's measurements and verdict.") { target, rollout, _output };
        runs.SetAction((parse, ct) => Run(parse, ct, (api, c) => AnalysisRunsAsync(api, parse.GetValue(target)!, parse.GetValue(rollout), Format(parse), c)));
        return new Command("analysis", "Canary analysis.") { runs };
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
}
