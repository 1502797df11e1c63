using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace AgentAspire.Cli;

/// <summary>The flags commands: list, kill, restore.</summary>
public sealed partial class CliApp
{
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
}
