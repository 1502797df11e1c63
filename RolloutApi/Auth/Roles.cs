namespace RolloutApi.Auth;

/// <summary>The two roles a credential can hold: viewers read, operators also mutate.</summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";

    public static bool IsKnown(string? role) => role is Viewer or Operator;
}

/// <summary>Authorization policy names; every <c>/api</c> endpoint requires one of them.</summary>
public static class AuthPolicies
{
    /// <summary>Read access: a viewer or an operator credential.</summary>
    public const string Viewer = "viewer";

    /// <summary>Mutations: an operator credential.</summary>
    public const string Operator = "operator";
}
