namespace FlagsBench;

/// <summary>Dispatches to a subcommand. Not top-level statements: RolloutApi's own <c>Program</c> type is referenced here.</summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        "rollout-api" => await RolloutApiHost.RunAsync(args[1..]),
        "measure" => await PropagationBench.RunAsync(Arguments.Parse(args[1..])),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: FlagsBench rollout-api [ASP.NET Core arguments]
                   FlagsBench measure --api URL --operator-key K --viewer-key K --agents URL,URL,... [--agent NAME] [--flag NAME]
                                      [--flips N] [--warmup N] [--rate R] [--load C] [--timeout-ms T] [--out FILE]
            """);
        return 2;
    }
}
