namespace FlagsBench;

/// <summary>Dispatches to a subcommand.</summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        "measure" => await PropagationBench.RunAsync(Arguments.Parse(args[1..])),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: FlagsBench measure --api URL --operator-key K --viewer-key K --agents URL,URL,... [--agent NAME] [--flag NAME]
                              [--flips N] [--warmup N] [--rate R] [--load C] [--timeout-ms T] [--out FILE]
            """);
        return 2;
    }
}
