using System.Runtime.InteropServices;

namespace RolloutApi.Storage;

/// <summary>
/// Names the cause when writes fail because the database's files or their file system became read-only. SQLite's own code
/// does not always say so: a connection that opened the file while it was writable gets SQLITE_IOERR_WRITE (the kernel
/// answered EPERM or EROFS to its write), and only a connection opened afterwards gets SQLITE_READONLY. Runs only after a
/// write has failed, never on the request path of a healthy database.
/// </summary>
internal static class ReadOnlyProbe
{
    private const int EPERM = 1;
    private const int EACCES = 13;
    private const int EROFS = 30;   // Linux and macOS alike
    private const int WriteOk = 2;  // access(2)'s W_OK

    /// <summary>The read-only cause for <paramref name="databasePath"/>, or null when its files and folder are writable.</summary>
    public static string? Describe(string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        // The file system first: ext4 after an I/O error ("errors=remount-ro") refuses every write with EROFS while
        // access(2) may still answer "writable" (the kernel marks the file system, not the mount), so only a real write
        // tells. A new file next to the database; the database's own files are never opened here, because closing any
        // descriptor of the database file would drop the POSIX locks SQLite holds on it in this process.
        var folder = Path.GetDirectoryName(databasePath)!;
        try
        {
            using var probe = new FileStream(
                Path.Combine(folder, $".{Path.GetFileName(databasePath)}.write-probe-{Environment.ProcessId}"),
                FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e) when (e.HResult == EROFS)
        {
            return "the file system holding the database is read-only";
        }
        catch (UnauthorizedAccessException)
        {
            return "the folder holding the database is read-only";
        }
        catch (IOException)
        {
            // Full, or gone: not a read-only cause; SQLite's code says what it is.
        }

        // Then the files: read-only by mode (a non-root process) or immutable (chattr +i, which binds root too).
        foreach (var path in new[] { databasePath, databasePath + "-wal" })
        {
            if (File.Exists(path) && Access(path, WriteOk) != 0)
            {
                return Marshal.GetLastPInvokeError() switch
                {
                    EROFS => "the file system holding the database is read-only",
                    EPERM or EACCES => $"the database file {Path.GetFileName(path)} is read-only",
                    _ => null,
                };
            }
        }

        return null;
    }

    // DllImport rather than LibraryImport: the source-generated stub would need AllowUnsafeBlocks for the whole assembly.
    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);
}
