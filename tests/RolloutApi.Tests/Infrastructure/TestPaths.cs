namespace RolloutApi.Tests.Infrastructure;

/// <summary>Temporary folders for databases; best-effort cleanup.</summary>
public static class TestPaths
{
    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "rollout-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A pooled handle may still be closing; the OS temp cleaner takes what is left.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
