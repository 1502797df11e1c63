using RolloutApi.Hosting;

namespace RolloutApi.Tests.Architecture;

/// <summary>
/// RolloutApi's folders depend on each other one way only (e.g. Rollouts uses Storage, never the reverse), so each can be
/// read, changed and tested from the bottom up. A sub-folder counts as part of its top folder (Rollouts/Analysis is part of
/// Rollouts): the rule is between the folders a reader finds first.
/// </summary>
public sealed class NamespaceCycleTests
{
    private const string Root = "RolloutApi";

    [Fact]
    public void RolloutApi_HasNoNamespaceCycles()
    {
        var edges = NamespaceGraph.Build(typeof(RolloutApiOptions).Assembly, TopFolder);
        var cycles = NamespaceGraph.Cycles(edges);

        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(cycle => Describe(cycle, edges))));
    }

    [Fact]
    public void CycleCheck_FindsACycle()
    {
        // The check itself must be able to fail: a two-namespace loop is reported with the types that close it.
        var edges = new Dictionary<string, Dictionary<string, string>>
        {
            ["A"] = new() { ["B"] = "A.X uses B.Y" },
            ["B"] = new() { ["C"] = "B.Y uses C.Z" },
            ["C"] = new() { ["A"] = "C.Z uses A.X" },
            ["D"] = new() { ["A"] = "D.W uses A.X" },
        };

        Assert.Equal([["A", "B", "C"]], NamespaceGraph.Cycles(edges));
    }

    [Fact]
    public void Graph_SeesUsesInsideMethodBodies()
    {
        // The engine reaches the routing writer through a field, and the storage layer only inside async method bodies:
        // both must show up, or the cycle test above would pass on a graph with edges missing.
        var edges = NamespaceGraph.Build(typeof(RolloutApiOptions).Assembly, TopFolder);

        Assert.Contains("RolloutApi.Storage", edges["RolloutApi.Rollouts"].Keys);
        Assert.Contains("RolloutApi.Storage", edges["RolloutApi.Routing"].Keys);
    }

    private static string? TopFolder(string ns) =>
        ns == Root ? Root
        : ns.StartsWith(Root + ".", StringComparison.Ordinal) ? string.Join('.', ns.Split('.').Take(2))
        : null;

    private static string Describe(List<string> cycle, Dictionary<string, Dictionary<string, string>> edges) =>
        $"Cycle between {string.Join(", ", cycle)}: " + string.Join("; ", cycle.SelectMany(from =>
            edges[from].Where(edge => cycle.Contains(edge.Key)).Select(edge => edge.Value)));
}
