using System.Diagnostics;
using AppHost.Builds;

namespace AppHost.Tests.Builds;

/// <summary>The content-addressed build store: ids anyone can recompute with coreutils, nothing overwritten, tampering refused.</summary>
public sealed class BuildStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentaspire-build-store-").FullName;

    [Fact]
    public async Task The_build_id_is_what_the_READMEs_coreutils_pipeline_prints()
    {
        var published = FakePublish("one", ("AgentWorker.dll", "code"), ("appsettings.json", "{}"), ("sub/dir/ä.txt", "x"));

        var id = BuildStore.ContentHash(published);

        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", "(cd \"$1\" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64", "hash", published },
            RedirectStandardOutput = true,
        };
        using var bash = Process.Start(start)!;
        var printed = (await bash.StandardOutput.ReadToEndAsync()).Trim();
        await bash.WaitForExitAsync();
        Assert.Equal(0, bash.ExitCode);
        Assert.Equal(printed, id);
        Assert.True(BuildStore.IsValidHash(id));
    }

    [Fact]
    public void A_stored_build_is_named_by_its_content_never_overwritten_and_read_only()
    {
        var store = new BuildStore(Path.Combine(_root, "store"));
        var first = FakePublish("a", ("AgentWorker.dll", "code v1"));
        var changed = FakePublish("b", ("AgentWorker.dll", "code v2"));

        var id = store.Add(first);
        var written = File.GetLastWriteTimeUtc(Path.Combine(store.PathOf(id), BuildStore.EntryAssembly));
        var again = store.Add(FakePublish("c", ("AgentWorker.dll", "code v1")));
        var other = store.Add(changed);

        Assert.Equal(id, again);
        Assert.NotEqual(id, other);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(store.PathOf(id), BuildStore.EntryAssembly)));
        Assert.Equal("code v1", File.ReadAllText(Path.Combine(store.Verify(id), BuildStore.EntryAssembly)));
        Assert.Equal([id, other], store.List().Order());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(0, (int)(File.GetUnixFileMode(Path.Combine(store.PathOf(id), BuildStore.EntryAssembly)) & UnixFileMode.UserWrite));
        }

        // No staging folder is left behind.
        Assert.Equal(2, Directory.GetDirectories(store.Root).Length);
    }

    [Fact]
    public void A_build_changed_after_it_was_stored_or_missing_is_refused_with_the_reason()
    {
        var store = new BuildStore(Path.Combine(_root, "store"));
        var id = store.Add(FakePublish("a", ("AgentWorker.dll", "code")));
        var file = Path.Combine(store.PathOf(id), "appsettings.json");
        File.WriteAllText(file, "{\"tampered\":true}");

        var changed = Assert.Throws<BuildStoreException>(() => store.Verify(id));
        var missing = Assert.Throws<BuildStoreException>(() => store.Verify(new string('0', 64)));
        var notPublished = Assert.Throws<BuildStoreException>(() => store.Add(FakePublish("empty", ("readme.txt", "no dll"))));

        Assert.Contains("was changed after it was stored", changed.Message);
        Assert.Contains("is not in the store", missing.Message);
        Assert.Contains("has no AgentWorker.dll", notPublished.Message);
        Assert.Throws<ArgumentException>(() => store.PathOf("../../etc"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string FakePublish(string name, params (string Path, string Content)[] files)
    {
        var folder = Path.Combine(_root, "published", name);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }

        return folder;
    }
}
