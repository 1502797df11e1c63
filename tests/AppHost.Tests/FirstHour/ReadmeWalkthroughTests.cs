using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentAspire.Contracts;

namespace AppHost.Tests.FirstHour;

/// <summary>
/// Runs README.md's commands as a person would: the "Drive a rollout" block, command by command, in one bash session
/// with the real curl, after putting in the key and addresses the README tells a person to take. Nothing is copied into
/// the test, so the README cannot drift from the product: a command that stops working fails here.
/// </summary>
[Collection(FirstHourCollection.Name)]
public sealed partial class ReadmeWalkthroughTests(FirstHourFixture app)
{
    private static readonly TimeSpan WalkthroughDeadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_first_request_in_Run_it_is_served_by_an_agent_through_the_gateway()
    {
        var block = Readme.CodeBlocks("Run it").Single(b => b.Contains("/api/items", StringComparison.Ordinal));
        var steps = await RunAsync(Readme.Commands(block));

        var step = Assert.Single(steps);
        Assert.Equal([200], step.Statuses);
        // curl -i: the agent's own headers, then its JSON body naming who served the item.
        Assert.Matches(@"(?im)^X-Agent-Version: 1\.0\.0", step.Output);
        var body = step.Output[step.Output.IndexOf('{', StringComparison.Ordinal)..];
        using var json = JsonDocument.Parse(body);
        Assert.Equal(Tracks.Stable, json.RootElement.GetProperty("servedBy").GetProperty("track").GetString());
        Assert.Equal(200, json.RootElement.GetProperty("upstream").GetProperty("statusCode").GetInt32());
    }

    [Fact]
    public async Task Drive_a_rollout_works_command_by_command_on_a_fresh_app()
    {
        var block = Assert.Single(Readme.CodeBlocks("Drive a rollout"));
        var commands = Readme.Commands(block);
        Assert.True(commands.Count >= 10, $"the README's block has {commands.Count} commands");

        var steps = await RunAsync(commands);

        foreach (var step in steps)
        {
            Assert.True(step.ExitCode == 0, $"`{step.Command}` exited {step.ExitCode}:\n{step.Output}\n{step.Error}");
            Assert.True(step.Statuses.All(s => s is >= 200 and < 300),
                $"`{step.Command}` got HTTP {string.Join(", ", step.Statuses)}:\n{step.Output}");
        }

        // The id taken from the create answer, as the README tells a person to: revision 2 on a fresh app.
        var created = steps.Single(s => s.Command.StartsWith("REV=", StringComparison.Ordinal));
        Assert.Equal("revision 2", created.Output.Trim());
        var started = steps.Single(s => s.Command.Contains("/rollouts ", StringComparison.Ordinal));
        using (var rollout = JsonDocument.Parse(started.Output))
        {
            Assert.Equal(2, rollout.RootElement.GetProperty("toRevision").GetProperty("number").GetInt32());
        }

        var promoted = steps.Single(s => s.Command.Contains("If-Match: $ETAG", StringComparison.Ordinal));
        Assert.Single(promoted.Statuses);

        // Where the effects land: the gateway applied weight 0 after the undo, and the audit has the whole story.
        using var gateway = app.CreateClient(ResourceNames.Gateway);
        using var routing = JsonDocument.Parse(await gateway.GetStringAsync("/gateway/routing"));
        var weights = Weights(routing.RootElement).ToList();
        Assert.NotEmpty(weights);
        Assert.All(weights, w => Assert.Equal(0, w));
        var audit = steps[^1].Output;
        foreach (var action in new[] { "FlagKilled", "Promoted", "Aborted" })
        {
            Assert.Contains(action, audit, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<int> Weights(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "weight" && p.Value.ValueKind == JsonValueKind.Number ? [p.Value.GetInt32()] : Weights(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Weights),
        _ => [],
    };

    private async Task<IReadOnlyList<Step>> RunAsync(IReadOnlyList<string> commands)
    {
        var rolloutApi = app.Endpoint(ResourceNames.RolloutApi).ToString().TrimEnd('/');
        var gateway = app.Endpoint(ResourceNames.Gateway).ToString().TrimEnd('/');
        var upstream = app.Endpoint(ResourceNames.UpstreamApi).ToString().TrimEnd('/');
        var script = new StringBuilder();
        // The real curl, which also reports each answer's status on stderr (%{stderr} leaves its output untouched).
        script.AppendLine($"curl() {{ command {Tools.Require("curl")} -w '%{{stderr}}@@status %{{http_code}}\\n' \"$@\"; }}");
        for (var i = 0; i < commands.Count; i++)
        {
            // What the README tells a person to substitute: the key from the dashboard and the fixed local addresses,
            // which the test app replaces with its own (tests run on random ports).
            var command = commands[i]
                .Replace("<operator-api-key>", app.OperatorKey, StringComparison.Ordinal)
                .Replace("http://localhost:5110", rolloutApi, StringComparison.Ordinal)
                .Replace("http://localhost:5120", gateway, StringComparison.Ordinal)
                .Replace("http://localhost:5150", upstream, StringComparison.Ordinal);
            script.AppendLine($"echo '@@step {i}'; echo '@@step {i}' >&2");
            script.AppendLine(command);
            script.AppendLine($"echo; echo \"@@exit {i} $?\" >&2");
        }

        var (exitCode, output, error) = await Tools.RunAsync("bash", ["-s"], script.ToString(), WalkthroughDeadline);
        Assert.True(exitCode == 0, $"bash exited {exitCode}:\n{error}");

        var outputs = Split(output);
        var errors = Split(error);
        return [.. commands.Select((command, i) =>
        {
            var stepError = errors.GetValueOrDefault(i, "");
            var statuses = StatusLine().Matches(stepError).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var exit = ExitLine().Match(stepError) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
            return new Step(command, outputs.GetValueOrDefault(i, ""), stepError, statuses, exit);
        })];
    }

    private static Dictionary<int, string> Split(string text)
    {
        var parts = new Dictionary<int, string>();
        foreach (Match match in StepSection().Matches(text))
        {
            parts[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)] = match.Groups[2].Value;
        }

        return parts;
    }

    private sealed record Step(string Command, string Output, string Error, IReadOnlyList<int> Statuses, int ExitCode);

    [GeneratedRegex(@"@@step (\d+)\n(.*?)(?=@@step \d+\n|\z)", RegexOptions.Singleline)]
    private static partial Regex StepSection();

    [GeneratedRegex(@"@@status (\d{3})")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"@@exit \d+ (\d+)")]
    private static partial Regex ExitLine();
}

/// <summary>README.md's code blocks, read from the repository the tests were built from.</summary>
internal static partial class Readme
{
    public static string Text { get; } = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));

    /// <summary>The ```bash blocks of the section whose heading is <paramref name="heading"/>.</summary>
    public static IReadOnlyList<string> CodeBlocks(string heading)
    {
        var start = Text.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '## {heading}' section");
        var end = Text.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        var section = end < 0 ? Text[start..] : Text[start..end];
        return [.. BashBlock().Matches(section).Select(m => m.Groups[1].Value)];
    }

    /// <summary>The commands of a block: continuation lines joined, comments and blank lines dropped.</summary>
    public static IReadOnlyList<string> Commands(string block) =>
        [.. block.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))];

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();
}
