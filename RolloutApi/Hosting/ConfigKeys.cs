namespace RolloutApi.Hosting;

/// <summary>The configuration keys RolloutApi reads; AppHost sets the same keys, so they are spelled once here.</summary>
public static class ConfigKeys
{
    public const string RolloutApiSection = "RolloutApi";
    public const string DatabasePath = "RolloutApi:DatabasePath";
    public const string AgentsSection = "Agents";
    public const string AuthSection = "Auth";
    public const string ApiKeysSection = "Auth:ApiKeys";
    public const string DriversSection = "Drivers";
    public const string TrackDriver = "Drivers:Track";
    public const string AnalysisSection = "Analysis";
    public const string AnalysisProvider = "Analysis:Provider";
}
