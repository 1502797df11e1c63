using AgentAspire.Contracts;

namespace ServiceDefaults.Tests;

/// <summary>
/// The contracts library is what the AppHost, the CLI and a team's own agent take to speak to AgentAspire: it must not
/// drag ASP.NET Core in with it.
/// </summary>
public sealed class ContractsAssemblyTests
{
    [Fact]
    public void Contracts_reference_no_asp_net_assembly()
    {
        var references = typeof(RoutingTable).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToArray();

        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
    }
}
