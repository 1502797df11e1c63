using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AppHost.Builds;

/// <summary>
/// Published builds of the agent, each in a folder named by the SHA-256 of its content and never written again: what a
/// revision's <c>build</c> names and what a local track runs (<c>dotnet &lt;store&gt;/&lt;hash&gt;/AgentWorker.dll</c>).
/// </summary>
/// <remarks>
/// The hash is that of the listing <c>sha256sum</c> prints for every file, sorted by path, so that anyone can check or
/// compute it with coreutils alone:
/// <c>(cd DIR &amp;&amp; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum</c>.
/// A folder is added under a temporary name and renamed into place (atomic on one file system), so a reader never sees
/// half a build; files are made read-only, and a build is verified against its name before every start.
/// </remarks>
public sealed partial class BuildStore(string root)
{
    /// <summary>What a stored build must contain to be run by a track.</summary>
    public const string EntryAssembly = "AgentWorker.dll";

    /// <summary>The default store: <c>~/.agentaspire/builds</c>, shared by every clone on the machine (builds are immutable).</summary>
    public static string DefaultRoot =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".agentaspire", "builds");

    public const string HashRule = "64 lowercase hexadecimal characters (a SHA-256)";

    private const string StagingPrefix = ".incoming-";

    public string Root { get; } = Path.GetFullPath(root);

    public static bool IsValidHash(string? hash) => hash is not null && Hash().IsMatch(hash);

    /// <summary>The folder of a stored build (whether or not it exists).</summary>
    public string PathOf(string hash) =>
        IsValidHash(hash) ? Path.Combine(Root, hash) : throw new ArgumentException($"A build id is {HashRule}.", nameof(hash));

    /// <summary>Whether a build with this id is stored (not verified; see <see cref="Verify"/>).</summary>
    public bool Contains(string hash) => IsValidHash(hash) && File.Exists(Path.Combine(Root, hash, EntryAssembly));

    /// <summary>
    /// The folder to run <paramref name="hash"/> from, after checking that it is there, has the agent's entry assembly and
    /// still hashes to its name (a build edited in place is refused rather than run under a name it no longer has).
    /// </summary>
    public string Verify(string hash)
    {
        var folder = PathOf(hash);
        if (!File.Exists(Path.Combine(folder, EntryAssembly)))
        {
            throw new BuildStoreException($"Build {hash} is not in the store {Root} (or has no {EntryAssembly}). Store it first (README: canary your working copy).");
        }

        var actual = ContentHash(folder);
        return actual == hash
            ? folder
            : throw new BuildStoreException($"Build {hash} in {Root} was changed after it was stored (its content now hashes to {actual}); refusing to run it.");
    }

    /// <summary>
    /// Copies a published build into the store and returns its id. A build already stored (same content) is left as it
    /// is and its id returned: nothing in the store is ever overwritten.
    /// </summary>
    public string Add(string publishedFolder)
    {
        var source = Path.GetFullPath(publishedFolder);
        if (!File.Exists(Path.Combine(source, EntryAssembly)))
        {
            throw new BuildStoreException($"{source} has no {EntryAssembly}: not a published AgentWorker.");
        }

        Directory.CreateDirectory(Root);
        var staging = Path.Combine(Root, StagingPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            CopyTree(source, staging);
            var hash = ContentHash(staging);
            return Commit(staging, hash);
        }
        finally
        {
            DeleteIfPresent(staging);
        }
    }

    /// <summary>
    /// Takes a folder already inside <see cref="Root"/> (e.g. <c>dotnet publish -o</c> into a staging folder of the
    /// store) and renames it to its hash, avoiding a copy. The folder is gone afterwards either way.
    /// </summary>
    public string AddInPlace(string stagingFolder)
    {
        var staging = Path.GetFullPath(stagingFolder);
        try
        {
            if (!File.Exists(Path.Combine(staging, EntryAssembly)))
            {
                throw new BuildStoreException($"{staging} has no {EntryAssembly}: not a published AgentWorker.");
            }

            return Commit(staging, ContentHash(staging));
        }
        finally
        {
            DeleteIfPresent(staging);
        }
    }

    /// <summary>A fresh staging folder inside the store (same file system, so that committing it is a rename).</summary>
    public string NewStagingFolder()
    {
        Directory.CreateDirectory(Root);
        return Path.Combine(Root, StagingPrefix + Guid.NewGuid().ToString("N"));
    }

    /// <summary>The ids of the stored builds, newest first.</summary>
    public IReadOnlyList<string> List() =>
        Directory.Exists(Root)
            ? [.. new DirectoryInfo(Root).EnumerateDirectories().Where(d => IsValidHash(d.Name)).OrderByDescending(d => d.CreationTimeUtc).Select(d => d.Name)]
            : [];

    /// <summary>The content hash of a folder (see the type's remarks for the definition).</summary>
    public static string ContentHash(string folder)
    {
        var root = Path.GetFullPath(folder);
        var listing = new StringBuilder();
        foreach (var relative in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                     .Select(file => "./" + Path.GetRelativePath(root, file).Replace('\\', '/'))
                     .Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(Path.Combine(root, relative[2..]));
            listing.Append(Convert.ToHexStringLower(SHA256.HashData(stream))).Append("  ").Append(relative).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
    }

    private string Commit(string staging, string hash)
    {
        MakeReadOnly(staging);
        var target = Path.Combine(Root, hash);
        if (Directory.Exists(target))
        {
            // Same content already stored (builds are deterministic): keep the one there.
            return hash;
        }

        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            // Another writer stored the same content a moment earlier.
        }

        return hash;
    }

    private static void CopyTree(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        }

        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        }
    }

    private static void MakeReadOnly(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }
    }

    private static void DeleteIfPresent(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex("^[0-9a-f]{64}\\z")]
    private static partial Regex Hash();
}

/// <summary>A build that cannot be stored or run, with the reason in words an operator can act on.</summary>
public sealed class BuildStoreException(string message) : Exception(message);
