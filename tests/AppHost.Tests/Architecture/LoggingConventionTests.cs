using System.Reflection;
using System.Runtime.InteropServices;

namespace AppHost.Tests.Architecture;

/// <summary>
/// docs/logging.md: every <c>[LoggerMessage]</c> carries an explicit event id from its assembly's range, and no id is used
/// twice in one assembly. Read by reflection (a metadata-only load) over each service's built assembly, so that a
/// collision fails here instead of making two messages indistinguishable in a log query.
/// </summary>
public sealed class LoggingConventionTests
{
    private const string LoggerMessageAttribute = "Microsoft.Extensions.Logging.LoggerMessageAttribute";

    /// <summary>The project folder (its assembly's name unless given after a slash) and its range, as docs/logging.md gives them.</summary>
    public static TheoryData<string, int, int> Ranges => new()
    {
        { "AgentWorker", 1000, 1999 },
        { "Gateway", 2000, 2999 },
        { "RolloutApi", 3000, 3999 },
        { "AgentAspire.Agent", 4500, 4999 },
        { "UpstreamApi", 5000, 5999 },
        { "DemoTraffic", 6000, 6999 },
        { "AgentAspire.Cli/agentaspire", 7000, 7999 },
        { "AppHost", 8000, 8999 },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public void Every_log_message_has_its_own_event_id_inside_its_assemblys_range(string project, int first, int last)
    {
        var messages = LogMessages(project);

        var problems = new List<string>();
        problems.AddRange(messages.Where(m => m.EventId is null).Select(m => $"{m.Method}: no EventId"));
        problems.AddRange(messages.Where(m => m.EventId is { } id && (id < first || id > last))
            .Select(m => $"{m.Method}: EventId {m.EventId} is outside {first}-{last}"));
        problems.AddRange(messages.Where(m => m.EventId is not null).GroupBy(m => m.EventId).Where(g => g.Count() > 1)
            .Select(g => $"EventId {g.Key} is used by {string.Join(", ", g.Select(m => m.Method))}"));
        Assert.True(problems.Count == 0, $"{project}: {string.Join("; ", problems)}");
    }

    [Fact]
    public void The_check_finds_the_messages_it_checks()
    {
        // Guards the reflection itself: the gateway has messages in several folders, so finding none means the read broke.
        Assert.Contains(LogMessages("Gateway"), m => m.Method.StartsWith("Gateway.Routing.", StringComparison.Ordinal) && m.EventId is >= 2000 and < 2100);
    }

    private static List<(string Method, int? EventId)> LogMessages(string project)
    {
        var assemblyPath = BuiltAssembly(project);
        var directory = Path.GetDirectoryName(assemblyPath)!;
        var frameworks = new[] { typeof(object), typeof(Microsoft.AspNetCore.Builder.WebApplication) }
            .Select(t => Path.GetDirectoryName(t.Assembly.Location)!)
            .Distinct();
        var paths = frameworks.SelectMany(d => Directory.GetFiles(d, "*.dll"))
            .Concat(Directory.GetFiles(directory, "*.dll"))
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.Last());
        using var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var assembly = context.LoadFromAssemblyPath(assemblyPath);

        var messages = new List<(string, int?)>();
        foreach (var type in Types(assembly))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                foreach (var attribute in method.GetCustomAttributesData().Where(a => a.AttributeType.FullName == LoggerMessageAttribute))
                {
                    messages.Add(($"{type.FullName}.{method.Name}", EventIdOf(attribute)));
                }
            }
        }

        return messages;
    }

    /// <summary>The id, whichever way it was given (positional or named); null when none was (the generator's -1).</summary>
    private static int? EventIdOf(CustomAttributeData attribute)
    {
        var named = attribute.NamedArguments.Where(a => a.MemberName == "EventId").Select(a => (int)a.TypedValue.Value!).ToList();
        if (named.Count > 0)
        {
            return named[0];
        }

        var parameters = attribute.Constructor.GetParameters();
        for (var i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].Name == "eventId")
            {
                return (int)attribute.ConstructorArguments[i].Value!;
            }
        }

        return null;
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    /// <summary>The project's own build output, in the configuration this test was built in.</summary>
    private static string BuiltAssembly(string project)
    {
        var output = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AgentAspire.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var configuration = output.Parent!.Name; // bin/<Configuration>/<tfm>
        var framework = output.Name;
        var (folder, assembly) = project.Split('/') is [var f, var a] ? (f, a) : (project, project);
        var path = Path.Combine(root.FullName, folder, "bin", configuration, framework, $"{assembly}.dll");
        Assert.True(File.Exists(path), $"{path} is not built ({RuntimeInformation.FrameworkDescription}); build the solution first.");
        return path;
    }
}
