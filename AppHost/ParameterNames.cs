namespace AppHost;

/// <summary>Names of the AppHost's parameters: shared by the composition, the publisher and the tests.</summary>
public static class ParameterNames
{
    public const string StableVersion = "stable-version";
    public const string CanaryVersion = "canary-version";
    public const string OperatorApiKey = "operator-api-key";
    public const string ViewerApiKey = "viewer-api-key";
}
