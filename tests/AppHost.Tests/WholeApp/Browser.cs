using Microsoft.Playwright;

namespace AppHost.Tests.WholeApp;

/// <summary>
/// Headless Chromium through Playwright, using the system's browser (Debian's <c>chromium</c>; CI installs it with apt):
/// Playwright never downloads one here. <c>CHROMIUM_PATH</c> points elsewhere.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string PathVariable = "CHROMIUM_PATH";
    private const string DefaultPath = "/usr/bin/chromium";

    private static readonly string[] LaunchArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Instance = browser;
    }

    public IBrowser Instance { get; }

    public static async Task<Browser> LaunchAsync()
    {
        var path = Environment.GetEnvironmentVariable(PathVariable) ?? DefaultPath;
        Assert.True(File.Exists(path), $"No Chromium at {path}: install it (apt-get install chromium) or set {PathVariable}.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = LaunchArgs,
            Timeout = 60_000,
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A fresh context (its own session storage) on the page at <paramref name="url"/>, signed in with <paramref name="key"/>.</summary>
    public async Task<IPage> OpenPageAsync(Uri url, string key)
    {
        var context = await Instance.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1800 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(url.ToString());
        await page.Locator("#key-input").FillAsync(key);
        await page.Locator("#key-use").ClickAsync();
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Instance.DisposeAsync();
        _playwright.Dispose();
    }
}
