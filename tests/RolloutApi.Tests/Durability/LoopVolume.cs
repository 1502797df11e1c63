using System.Diagnostics;

namespace RolloutApi.Tests.Durability;

/// <summary>
/// A small ext4 file system of a test's own: an image file on a loop device, mounted with <c>errors=remount-ro</c> (what
/// distributions put in fstab), so the test can make a file immutable (<c>chattr +i</c>, which binds root too, unlike a
/// mode of 444) or make the whole file system fail read-only the way a disk error does. Needs root and a loop device; a
/// machine without either fails the test with the reason, it never passes silently. Dispose unmounts, detaches the loop
/// device and deletes the image, whatever the test did.
/// </summary>
internal sealed class LoopVolume : IDisposable
{
    private readonly string _root;
    private readonly string _image;
    private string? _device;
    private bool _mounted;

    private LoopVolume(string root)
    {
        _root = root;
        _image = Path.Combine(root, "volume.img");
        MountPoint = Path.Combine(root, "mnt");
        Directory.CreateDirectory(MountPoint);
    }

    public string MountPoint { get; }

    /// <summary>The loop device (e.g. <c>loop3</c>), the name ext4 uses under <c>/sys/fs/ext4</c>.</summary>
    private string DeviceName => Path.GetFileName(_device ?? throw new InvalidOperationException("not attached"));

    public static LoopVolume Create(int megabytes)
    {
        var volume = new LoopVolume(Infrastructure.TestPaths.NewTempDirectory());
        try
        {
            using (var image = File.Create(volume._image))
            {
                image.SetLength(megabytes * 1024L * 1024L);
            }

            Shell.Run("mkfs.ext4", "-q", "-F", volume._image);
            var attach = Shell.TryRun("losetup", "--find", "--show", volume._image);
            if (attach.ExitCode != 0)
            {
                throw new Xunit.Sdk.XunitException(
                    $"This test needs a loop device for a small ext4 file system and could not get one (losetup --find: " +
                    $"{attach.Error.Trim()}). Run it as root on a machine with /dev/loop-control (the CI machine has both).");
            }

            volume._device = attach.Output.Trim();
            volume.Mount();
            return volume;
        }
        catch
        {
            volume.Dispose();
            throw;
        }
    }

    /// <summary><c>chattr +i</c>: no write, rename or unlink, for root too, until <see cref="MakeWritable"/>.</summary>
    public static void MakeImmutable(params string[] files)
    {
        foreach (var file in files)
        {
            Shell.Run("chattr", "+i", file);
        }
    }

    public static void MakeWritable(params string[] files)
    {
        foreach (var file in files)
        {
            Shell.Run("chattr", "-i", file);
        }
    }

    /// <summary>
    /// What ext4 does when the disk under it fails: with <c>errors=remount-ro</c> it aborts the journal and refuses every
    /// later write with EROFS. The kernel's own test hook raises the error (<c>/sys/fs/ext4/DEV/trigger_fs_error</c>);
    /// only an unmount, an fsck and a new mount make it writable again.
    /// </summary>
    public void FailReadOnly()
    {
        var trigger = $"/sys/fs/ext4/{DeviceName}/trigger_fs_error";
        if (!File.Exists(trigger))
        {
            throw new Xunit.Sdk.XunitException($"{trigger} is missing: this kernel cannot raise an ext4 error on demand.");
        }

        File.WriteAllText(trigger, "storage fault test: the disk failed\n");
    }

    /// <summary>Unmount, <c>e2fsck -fy</c>, mount again: the operator's repair after a disk error. Returns fsck's report.</summary>
    public string Repair()
    {
        Unmount();
        var check = Shell.TryRun("e2fsck", "-fy", _device!);
        // 0: clean; 1: errors corrected (the error flag the fault left behind). 2 or more: not repaired.
        if (check.ExitCode > 1)
        {
            throw new Xunit.Sdk.XunitException($"e2fsck could not repair the volume ({check.ExitCode}): {check.Output} {check.Error}");
        }

        Mount();
        return $"e2fsck exit {check.ExitCode}: {check.Output.Trim().Split('\n')[^1]}";
    }

    public void Dispose()
    {
        foreach (var file in _mounted ? Directory.GetFiles(MountPoint) : [])
        {
            Shell.TryRun("chattr", "-i", file);
        }

        if (_mounted && Shell.TryRun("umount", MountPoint).ExitCode != 0)
        {
            // Still busy (a process of a failed test holding a file): detach now, the kernel finishes when it lets go.
            Shell.TryRun("umount", "-l", MountPoint);
        }

        _mounted = false;
        if (_device is not null)
        {
            Shell.TryRun("losetup", "-d", _device);
        }

        Infrastructure.TestPaths.TryDelete(_root);
    }

    private void Mount()
    {
        Shell.Run("mount", "-t", "ext4", "-o", "errors=remount-ro", _device!, MountPoint);
        _mounted = true;
    }

    private void Unmount()
    {
        Shell.Run("umount", MountPoint);
        _mounted = false;
    }
}

/// <summary>Runs a system tool (mount, chattr, losetup) with its arguments passed as they are, no shell in between.</summary>
internal static class Shell
{
    public static void Run(string command, params string[] arguments)
    {
        var result = TryRun(command, arguments);
        if (result.ExitCode != 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"{command} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Error.Trim()} (storage fault tests run as root)");
        }
    }

    public static (int ExitCode, string Output, string Error) TryRun(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.GetAwaiter().GetResult());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"{command} not found: {e.Message}");
        }
    }
}
