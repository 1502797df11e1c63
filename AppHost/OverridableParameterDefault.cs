using Aspire.Hosting.Publishing;

namespace AppHost;

/// <summary>
/// A parameter's value when configuration (<c>Parameters:&lt;name&gt;</c>) gives none. Unlike a constant value, it lets
/// <c>--Parameters:stable-version=2.0.0</c> on the command line win.
/// </summary>
internal sealed class OverridableParameterDefault(string value) : ParameterDefault
{
    public override string GetDefaultValue() => value;

    public override void WriteToManifest(ManifestPublishingContext context) => context.Writer.WriteString("value", value);
}
