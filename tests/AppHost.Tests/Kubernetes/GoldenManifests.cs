using System.Runtime.CompilerServices;

namespace AppHost.Tests.Kubernetes;

/// <summary>
/// Byte-for-byte comparison of a publish output directory with a stored one under <c>Kubernetes/Golden/&lt;name&gt;</c>.
/// The stored files were written by the publisher before it was split by object kind (issue 13), so a refactoring of
/// the reader or the builders cannot change a single byte unnoticed. A change that is meant to alter the manifests
/// regenerates them: run the tests once with <c>AGENTASPIRE_UPDATE_GOLDEN=1</c> and review the diff like code.
/// </summary>
public static class GoldenManifests
{
    public const string UpdateVariable = "AGENTASPIRE_UPDATE_GOLDEN";

    public static void AssertMatches(string name, string outputDirectory, [CallerFilePath] string callerFile = "")
    {
        // The source tree, not the build output: an update has to land in the files that are committed.
        var goldenDirectory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Golden", name);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            if (Directory.Exists(goldenDirectory))
            {
                Directory.Delete(goldenDirectory, recursive: true);
            }

            Directory.CreateDirectory(goldenDirectory);
            foreach (var file in Directory.GetFiles(outputDirectory))
            {
                File.Copy(file, Path.Combine(goldenDirectory, Path.GetFileName(file)));
            }
        }

        Assert.True(Directory.Exists(goldenDirectory), $"No stored manifests at {goldenDirectory}; run once with {UpdateVariable}=1 to write them.");
        var expected = Directory.GetFiles(goldenDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var actual = Directory.GetFiles(outputDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, actual);
        foreach (var file in expected)
        {
            var want = File.ReadAllText(Path.Combine(goldenDirectory, file!));
            var got = File.ReadAllText(Path.Combine(outputDirectory, file!));
            Assert.True(
                string.Equals(want, got, StringComparison.Ordinal),
                $"{file} differs from Golden/{name}/{file} (set {UpdateVariable}=1 to accept an intended change):\n{FirstDifference(want, got)}");
        }
    }

    private static string FirstDifference(string expected, string actual)
    {
        var want = expected.Split('\n');
        var got = actual.Split('\n');
        for (var i = 0; i < Math.Max(want.Length, got.Length); i++)
        {
            var a = i < want.Length ? want[i] : "<end of file>";
            var b = i < got.Length ? got[i] : "<end of file>";
            if (!string.Equals(a, b, StringComparison.Ordinal))
            {
                return $"line {i + 1}: expected '{a}', got '{b}'";
            }
        }

        return "(line endings only)";
    }
}
